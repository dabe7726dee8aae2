/**
 * The page's own script: draws every chart with uPlot from the chart's table. It runs in the
 * browser, not in Node: the page inlines `drawCharts.toString()` and calls it with uPlot and
 * the document, so it must reach nothing outside its own body (no imports, no module scope).
 * Written in TypeScript against the few browser types it uses, so tsc checks it like the rest.
 * After drawing, each figure carries `data-drawn-points` (rows drawn) and `data-drawn-series`
 * (non-empty values per column), which the browser test checks against the result.
 */
import type { DrawConfig } from './chart-section.js';

/** The few DOM members the script uses (the project compiles without the DOM library). */
export interface PageElement {
  readonly textContent: string | null;
  readonly clientWidth: number;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
}

/** The document, as far as the script reads it. */
export interface PageDocument {
  querySelectorAll(selector: string): ArrayLike<PageElement>;
}

interface Canvas2D {
  strokeStyle: string;
  fillStyle: string;
  lineWidth: number;
  font: string;
  textAlign: string;
  save(): void;
  restore(): void;
  beginPath(): void;
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  stroke(): void;
  setLineDash(segments: number[]): void;
  fillText(text: string, x: number, y: number): void;
}

/** A drawn uPlot chart, as far as the hooks read it. */
export interface UPlotChart {
  readonly data: readonly (readonly (number | null)[])[];
  readonly ctx: Canvas2D;
  readonly bbox: { readonly left: number; readonly top: number; readonly width: number; readonly height: number };
  readonly root: PageElement;
  valToPos(value: number, scale: string, canvasPixels?: boolean): number;
}

/** uPlot's constructor and path builders (`uPlot.iife.min.js` defines the global `uPlot`). */
export interface UPlotStatic {
  new (options: object, data: (number | null)[][], target: PageElement): UPlotChart;
  readonly paths: { bars(options: object): unknown };
}

type Scale = Record<string, unknown>;

/** Draws every `figure[data-chart]` of the page; a chart that fails says so and logs an error (the test fails on it). */
export function drawCharts(uPlot: UPlotStatic, doc: PageDocument): void {
  const PLOT_HEIGHT = 300;
  const cellNumber = (cell: PageElement | undefined): number | null => {
    const text = (cell?.textContent ?? '').trim();
    return text === '' ? null : Number(text);
  };
  // A percentile p is drawn at 1/(1−p): 0 % at 1, 90 % at 10, 99 % at 100, …
  const percentileX = (text: string): number => 100 / (100 - Number(text));
  const percentileLabel = (x: number): string => `${Number((100 - 100 / x).toFixed(6))} %`;
  const fromZero = (_u: unknown, _min: number, max: number): [number, number] => [0, max > 0 ? max * 1.05 : 1];
  const widen = (_u: unknown, min: number, max: number): [number, number] => (min === max ? [min - 1, max + 1] : [min, max]);

  const xScale = (config: DrawConfig, count: number): Scale => {
    if (config.xKind === 'percentile') return { time: false, distr: 3, log: 10 };
    if (config.xKind === 'category') return { time: false, range: [-0.5, count - 0.5] };
    return { time: false, range: widen };
  };

  const xAxis = (config: DrawConfig, names: readonly string[]): Scale => {
    const axis: Scale = { label: config.xLabel };
    if (config.xKind === 'percentile') {
      axis['splits'] = (_u: unknown, _i: number, min: number, max: number): number[] => {
        const splits: number[] = [];
        for (let x = 1; x <= max * 1.0001; x *= 10) if (x >= min * 0.9999) splits.push(x);
        return splits;
      };
      axis['values'] = (_u: unknown, splits: readonly number[]): string[] => splits.map(percentileLabel);
    } else if (config.xKind === 'category') {
      axis['splits'] = (): number[] => names.map((_, i) => i);
      axis['values'] = (_u: unknown, splits: readonly number[]): string[] => splits.map((i) => names[i] ?? '');
    }
    return axis;
  };

  const seriesOf = (config: DrawConfig): Scale[] => {
    const barColumns = config.columns.filter((c) => c.style === 'bars').length;
    let barIndex = 0;
    return config.columns.map((column) => {
      const series: Scale = { label: column.label, stroke: column.color, width: 2, scale: column.axis === 'right' ? 'y2' : 'y', spanGaps: column.spansGaps === true };
      if (column.isDashed === true) series['dash'] = [6, 4];
      if (column.style === 'points') {
        series['paths'] = (): null => null;
        series['points'] = { show: true, size: 6, fill: column.color };
      } else if (column.style === 'bars') {
        // Two runs' bars stand side by side around each category.
        const align = barColumns === 2 ? (barIndex++ === 0 ? -1 : 1) : 0;
        series['paths'] = uPlot.paths.bars({ size: [barColumns === 2 ? 0.35 : 0.6, 80], align });
        series['fill'] = column.color;
        series['points'] = { show: false };
      }
      // Lines keep uPlot's own choice of points: shown where they are sparse (a one-row table still shows its value).
      return series;
    });
  };

  const drawMarkers = (config: DrawConfig) => (u: UPlotChart): void => {
    config.markers.forEach((marker, index) => {
      const left = u.valToPos(marker.x, 'x', true);
      const ctx = u.ctx;
      ctx.save();
      const color = marker.tone === 'good' ? '#14612a' : marker.tone === 'bad' ? '#a01818' : '#7a5600';
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.lineWidth = 2;
      ctx.setLineDash([5, 5]);
      ctx.beginPath();
      ctx.moveTo(left, u.bbox.top);
      ctx.lineTo(left, u.bbox.top + u.bbox.height);
      ctx.stroke();
      ctx.font = '24px sans-serif';
      // Near the right edge (where the run ends) the label goes left of its line, inside the plot.
      const isNearRight = left > u.bbox.left + u.bbox.width * 0.6;
      ctx.textAlign = isNearRight ? 'right' : 'left';
      // Two runs' markers often share an x: their labels stack.
      ctx.fillText(marker.label, isNearRight ? left - 8 : left + 8, u.bbox.top + 28 + index * 30);
      ctx.restore();
    });
  };

  // What was drawn, on the figure: rows and, per column, the values that are not empty.
  const recordDrawn = (figure: PageElement) => (u: UPlotChart): void => {
    figure.setAttribute('data-drawn-points', String(u.data[0]?.length ?? 0));
    figure.setAttribute('data-drawn-series', u.data.slice(1).map((values) => values.filter((v) => v !== null && v !== undefined).length).join(','));
  };

  const draw = (figure: PageElement): void => {
    const config = JSON.parse(figure.getAttribute('data-chart') ?? '{}') as DrawConfig;
    const rows = Array.from(figure.querySelectorAll('table.figures tbody tr'));
    const cells = rows.map((row) => Array.from(row.querySelectorAll('th, td')));
    const names = cells.map((row) => (row[0]?.textContent ?? '').trim());
    const xs = names.map((text, i) => (config.xKind === 'category' ? i : config.xKind === 'percentile' ? percentileX(text) : Number(text)));
    const columns = config.columns.map((_, c) => cells.map((row) => cellNumber(row[c + 1])));
    const plot = figure.querySelector('.plot');
    if (plot === null) throw new Error('no plot element');
    const axes: Scale[] = [xAxis(config, names), { scale: 'y', label: config.yLabel }];
    if (config.y2Label !== undefined) axes.push({ scale: 'y2', side: 1, label: config.y2Label, grid: { show: false } });
    const options = {
      width: Math.max(320, Math.min(1000, plot.clientWidth)),
      height: PLOT_HEIGHT,
      // Room on the right for the last x label (99.999 % on the percentile axis).
      padding: [12, config.y2Label === undefined ? 36 : 12, 0, 0],
      scales: { x: xScale(config, xs.length), y: { range: fromZero }, ...(config.y2Label === undefined ? {} : { y2: { range: fromZero } }) },
      axes,
      series: [{ label: config.xLabel }, ...seriesOf(config)],
      hooks: { draw: [drawMarkers(config), recordDrawn(figure)] },
    };
    new uPlot(options, [xs, ...columns], plot);
  };

  const figures = Array.from(doc.querySelectorAll('figure[data-chart]'));
  for (const figure of figures) {
    try {
      draw(figure);
    } catch (error) {
      figure.setAttribute('data-drawn-points', 'error');
      figure.querySelector('.plot')?.setAttribute('data-error', String(error));
      console.error(`ssekit report: a chart could not be drawn: ${String(error)}`);
    }
  }
}
