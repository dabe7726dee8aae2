/**
 * JSON paths as ssekit reads them everywhere (stats selectors, `publish --id-path`):
 * `a.b[0].c`, `$.a.b`, `a["x.y"]`, and `.length` of an array. Own keys only, so a path can
 * never reach `constructor` or other inherited members.
 */
import { UsageError } from './errors.js';

type Step = { readonly kind: 'key'; readonly key: string } | { readonly kind: 'index'; readonly index: number };

/** Parses `a.b[0].c`, `a["x.y"]`, `admins.length`. `UsageError` for a malformed path. */
export function parseJsonPath(path: string): Step[] {
  const steps: Step[] = [];
  let pos = path.startsWith('$') ? 1 : 0;
  if (path[pos] === '.') pos += 1;
  const bad = (why: string): never => {
    throw new UsageError(`JSON path '${path}': ${why}`, { hint: 'e.g. total_connections, stats.workers[0].active, admins.length' });
  };
  while (pos < path.length) {
    if (path[pos] === '[') {
      const close = path.indexOf(']', pos);
      if (close === -1) bad("missing ']'");
      const inner = path.slice(pos + 1, close).trim();
      if (/^\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (/^(".*"|'.*')$/.test(inner)) steps.push({ kind: 'key', key: inner.startsWith('"') ? (JSON.parse(inner) as string) : inner.slice(1, -1) });
      else bad(`'[${inner}]' is neither an index nor a quoted key`);
      pos = close + 1;
      if (path[pos] === '.') pos += 1;
      continue;
    }
    const match = /^[^.[\]]+/.exec(path.slice(pos));
    if (match === null) bad(`unexpected '${path[pos] ?? ''}'`);
    const key = (match as RegExpExecArray)[0];
    steps.push({ kind: 'key', key });
    pos += key.length;
    if (path[pos] === '.') {
      pos += 1;
      if (pos === path.length) bad('ends with a dot');
    }
  }
  return steps;
}

/** The value at a path (an array's length for a final `.length`); undefined when absent. */
export function readJsonPath(json: unknown, path: string): unknown {
  const steps = parseJsonPath(path);
  let current: unknown = json;
  for (const [i, step] of steps.entries()) {
    if (step.kind === 'index') {
      if (!Array.isArray(current)) return undefined;
      current = current[step.index];
      continue;
    }
    if (Array.isArray(current) && step.key === 'length' && i === steps.length - 1) return current.length;
    if (current === null || typeof current !== 'object' || Array.isArray(current) || !Object.hasOwn(current, step.key)) return undefined;
    current = (current as Record<string, unknown>)[step.key];
  }
  return current;
}
