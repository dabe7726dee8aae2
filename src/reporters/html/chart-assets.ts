/**
 * The chart library the page inlines: uPlot (MIT; about 50 KiB minified, canvas-drawn, no
 * dependencies, nothing fetched), read from its npm package once per process. Its one comment,
 * a link to its repository, is replaced by its name, version and licence: the page must hold
 * no URL at all (a test checks), and the licence asks for the notice to travel with the code.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The library's script and stylesheet, ready to inline. */
export interface ChartAssets {
  readonly script: string;
  readonly css: string;
}

let cached: ChartAssets | undefined;

/** Reads uPlot's minified script and stylesheet from node_modules (cached). */
export function readChartAssets(): ChartAssets {
  if (cached !== undefined) return cached;
  const require = createRequire(import.meta.url);
  const packageFile = require.resolve('uplot/package.json');
  const { version } = JSON.parse(readFileSync(packageFile, 'utf8')) as { version: string };
  const dist = join(dirname(packageFile), 'dist');
  const notice = `/*! uPlot ${version} (MIT License, Copyright (c) 2022 Leon Sorokin) */`;
  const script = readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8').replace(/^\/\*![^*]*\*\//, notice);
  cached = { script, css: readFileSync(join(dist, 'uPlot.min.css'), 'utf8') };
  return cached;
}
