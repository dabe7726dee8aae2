/**
 * The page shell: one self-contained HTML file. A strict Content-Security-Policy forbids every
 * fetch (no scripts, styles, fonts or images from anywhere; inline ones and data: images only),
 * so the file shows the same thing offline, attached to a ticket, or opened years later.
 */
import type { ChartAssets } from './chart-assets.js';
import { drawCharts } from './draw-charts.js';
import { scriptText, textHtml } from './escape-html.js';

/** The policy in the page's meta tag: nothing may be fetched. */
export const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

const STYLE = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1c1c1c;margin:0 auto;padding:1.5rem;max-width:1060px}
h1{font-size:1.5rem;margin:.2rem 0 .6rem}h2{font-size:1.15rem;margin:2rem 0 .3rem}
section{margin-bottom:1rem}.caption{color:#555;margin:.2rem 0 .6rem}
.verdict,.badge{display:inline-block;padding:.15rem .6rem;border-radius:4px;font-weight:600;margin:.2rem .4rem .2rem 0}
.good,.passed{background:#e3f4e6;color:#14612a}.bad,.failed{background:#fbe5e5;color:#9c1c1c}.neutral,.interrupted{background:#fdf3d8;color:#7a5600}
.note{color:#7a5600;font-style:italic;margin:.3rem 0}
table{border-collapse:collapse;margin:.4rem 0;font-variant-numeric:tabular-nums}
th,td{border:1px solid #d6d6d6;padding:.15rem .5rem;text-align:right;vertical-align:top}
thead th{background:#f2f2f2}tbody th{text-align:left;font-weight:500}
table.facts td{text-align:left}td.pass{color:#14612a}td.fail{color:#9c1c1c;font-weight:600}
details{margin:.3rem 0 1rem}summary{cursor:pointer;color:#1f5fa8}
figure{margin:0}.plot{min-height:300px;width:100%}
ul.diagnoses li{margin:.2rem 0}
`;

/** The whole page: `title` is plain text (escaped here), `body` the sections' HTML. */
export function renderPage(page: { readonly title: string; readonly body: readonly string[]; readonly generator: string }, assets: ChartAssets): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="${textHtml(page.generator)}">`,
    `<title>${textHtml(page.title)}</title>`,
    `<style>${assets.css}${STYLE}</style>`,
    '</head>',
    '<body>',
    ...page.body,
    `<script>${scriptText(assets.script)}</script>`,
    `<script>(${scriptText(drawCharts.toString())})(uPlot, document);</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
