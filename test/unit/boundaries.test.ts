/**
 * The layering rules of STYLE.md, checked by scanning imports: cli → command engines → shared
 * layers → core, never upward or sideways between engines; only cli/, sinks/ and reporters/
 * touch chalk, ora or the process streams; only cli/ reads process.env; only cli/main.ts exits.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));
const ENGINES = new Set(['listen', 'publish', 'bench', 'stats', 'serve', 'check']);
const SHARED = new Set(['transport', 'stream', 'producers', 'server-stats', 'metrics', 'sinks', 'reporters']);
const PRESENTATION = new Set(['cli', 'sinks', 'reporters']);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const sources = files(SRC).map((path) => {
  const rel = relative(SRC, path);
  const text = readFileSync(path, 'utf8');
  const imports = [...text.matchAll(/^\s*import\s[^'"]*['"]([^'"]+)['"]/gm), ...text.matchAll(/^\s*export\s[^'"]*from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1] as string);
  // Value imports only: output layers may name an engine's result *types* (erased at build).
  const valueImports = [...text.matchAll(/^\s*import\s+(?!type\s)[^'"]*['"]([^'"]+)['"]/gm), ...text.matchAll(/^\s*export\s+(?!type\s)[^'"]*from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1] as string);
  return { rel, layer: rel.split('/')[0] as string, text, imports, valueImports };
});

function targetLayer(fromRel: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const resolved = relative(SRC, join(SRC, fromRel, '..', spec));
  return resolved.split('/')[0];
}

describe('module boundaries', () => {
  it('finds the sources', () => {
    expect(sources.length).toBeGreaterThan(10);
  });

  it('core imports no other layer', () => {
    const bad = sources.filter((s) => s.layer === 'core').flatMap((s) => s.imports.filter((i) => (targetLayer(s.rel, i) ?? 'core') !== 'core').map((i) => `${s.rel} → ${i}`));
    expect(bad).toEqual([]);
  });

  it('shared layers import neither engines nor cli (output layers may import engine types)', () => {
    const bad = sources
      .filter((s) => SHARED.has(s.layer))
      .flatMap((s) => {
        const checked = PRESENTATION.has(s.layer) ? s.valueImports : s.imports;
        return checked.filter((i) => { const t = targetLayer(s.rel, i); return t !== undefined && (t === 'cli' || ENGINES.has(t)); }).map((i) => `${s.rel} → ${i}`);
      });
    expect(bad).toEqual([]);
  });

  it('engines import neither cli nor each other', () => {
    const bad = sources
      .filter((s) => ENGINES.has(s.layer))
      .flatMap((s) => s.imports.filter((i) => { const t = targetLayer(s.rel, i); return t !== undefined && (t === 'cli' || (ENGINES.has(t) && t !== s.layer)); }).map((i) => `${s.rel} → ${i}`));
    expect(bad).toEqual([]);
  });

  it('only cli, sinks and reporters use chalk, ora or the process streams', () => {
    const bad = sources
      .filter((s) => !PRESENTATION.has(s.layer))
      .filter((s) => s.imports.some((i) => i === 'chalk' || i === 'ora') || /process\.(stdout|stderr)\b/.test(s.text))
      .map((s) => s.rel);
    expect(bad).toEqual([]);
  });

  it('has no import cycles (a shared type lives in a file of its own, so arrows only point down)', () => {
    const graph = new Map(sources.map((s) => [s.rel, s.imports.filter((i) => i.startsWith('.')).map((i) => relative(SRC, join(SRC, s.rel, '..', i)).replace(/\.js$/, '.ts'))]));
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (node: string, path: string[]): void => {
      if (state.get(node) === 'done') return;
      if (state.get(node) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(node)), node].join(' → '));
        return;
      }
      state.set(node, 'visiting');
      for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
      state.set(node, 'done');
    };
    for (const node of graph.keys()) visit(node, []);
    expect(cycles).toEqual([]);
  });

  it('only cli reads process.env, and only cli/main.ts exits', () => {
    expect(sources.filter((s) => s.layer !== 'cli' && /process\.env\b/.test(s.text)).map((s) => s.rel)).toEqual([]);
    expect(sources.filter((s) => s.rel !== 'cli/main.ts' && /process\.exit\(/.test(s.text)).map((s) => s.rel)).toEqual([]);
  });

  it('starting the CLI (--version, --help) loads the flag registrations and commander, no engine and no other package', () => {
    const byRel = new Map(sources.map((s) => [s.rel, s]));
    const loaded = new Set<string>();
    const packages = new Set<string>();
    const visit = (rel: string): void => {
      if (loaded.has(rel)) return;
      loaded.add(rel);
      for (const spec of byRel.get(rel)?.valueImports ?? []) {
        if (spec.startsWith('.')) visit(relative(SRC, join(SRC, rel, '..', spec)).replace(/\.js$/, '.ts'));
        else if (!spec.startsWith('node:')) packages.add(spec);
      }
    };
    visit('cli/main.ts');
    expect([...packages]).toEqual(['commander']);
    // The commands' work (and jose, undici, the profiles, the fleet) loads in their *-action.ts.
    const heavy = [...loaded].filter((rel) => /-action\.ts$/.test(rel) || /^(bench|publish|listen|check|stats)\//.test(rel) && !/(churn-modes|types)\.ts$/.test(rel) || /^serve\/(server|profiles|hub)/.test(rel) || /^transport\/(agent|identity|auth)\.ts$/.test(rel));
    expect(heavy).toEqual([]);
  });
});
