/**
 * Contract files (YAML or JSON, `contracts/*.yaml`) → a validated `CheckPlan`. Precedence as
 * everywhere (k6): the file < flags. Every problem is reported at once, each naming its field
 * (`admin-orders.yaml: checks.heartbeat.interval must be a duration with a unit ...`), never a
 * stack trace. The format is in the README (`ssekit check`).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../core/errors.js';
import { createProblemList, readFields, type Fields, type ProblemList } from './fields.js';
import { CHECK_READERS } from './kinds/index.js';
import { CHECK_KINDS, type CheckBase, type CheckKind, type CheckOverrides, type CheckPlan, type CheckSpec, type IdentityClaims } from './plan.js';
import type { ReadEnv } from './read-common.js';

const TOP_LEVEL = ['name', 'description', 'target', 'stream', 'as', 'identities', 'checks'];
const DEFAULT_MAX_CHECK_MS = 120_000;

/** Reads and parses a contract file into a raw mapping; `UsageError` naming the file otherwise. */
export async function readContractFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`contract: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
  }
  try {
    // logLevel 'error': YAML warnings would otherwise reach stderr as raw code frames.
    return path.endsWith('.json') ? (JSON.parse(text) as unknown) : (parseYaml(text, { logLevel: 'error', prettyErrors: false }) as unknown);
  } catch (error) {
    const detail = error instanceof Error ? (error.message.split('\n')[0] ?? '').replace(/:\s*$/, '') : String(error);
    throw new UsageError(`${basename(path)}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${detail}`);
  }
}

/** Validates a raw contract with the flags' overrides; one `UsageError` listing every problem. */
export function buildCheckPlan(raw: unknown, overrides: CheckOverrides, source: string): CheckPlan {
  const problems = createProblemList(basename(source));
  const top = readFields(raw, '', problems);
  top.allowOnly(TOP_LEVEL);
  const identities = readIdentities(top);
  const identityNames = new Set(Object.keys(identities));
  const defaultIdentity = top.string('as') ?? Object.keys(identities)[0] ?? 'default';
  if (identityNames.size > 0 && !identityNames.has(defaultIdentity)) top.problem(`names identity '${defaultIdentity}', which is not in identities`, 'as');
  if (identityNames.size === 0) identityNames.add(defaultIdentity);
  const env: ReadEnv = { overrides, identityNames };
  const stream = top.string('stream') ?? '';
  const checks = readChecks(top, { stream, as: defaultIdentity }, env);
  const plan: CheckPlan = {
    name: top.string('name') ?? basename(source).replace(/\.(ya?ml|json)$/, ''),
    description: top.string('description'),
    source,
    target: readTarget(top, overrides),
    as: defaultIdentity,
    identities: Object.keys(identities).length === 0 ? { [defaultIdentity]: {} } : identities,
    auth: overrides.auth,
    headers: overrides.headers ?? {},
    checks: selectChecks(checks, overrides.only, problems),
    maxCheckMs: overrides.maxCheckMs ?? DEFAULT_MAX_CHECK_MS,
    connectTimeoutMs: overrides.connectTimeoutMs ?? 10_000,
  };
  if (overrides.auth === undefined && Object.keys(identities).length > 0) {
    problems.add(`the checks act as the contract's identities (${Object.keys(identities).join(', ')}): give --jwt-secret (or --jwt-key) to mint their tokens, or --token`);
  }
  problems.throwIfAny();
  return plan;
}

function readIdentities(top: Fields): Record<string, IdentityClaims> {
  const section = top.section('identities');
  const identities: Record<string, IdentityClaims> = {};
  for (const name of section?.keys() ?? []) {
    const claims = section?.mapping(name);
    if (claims !== undefined) identities[name] = claims as IdentityClaims;
  }
  return identities;
}

function readTarget(top: Fields, overrides: CheckOverrides): string {
  const target = overrides.target ?? top.string('target');
  const where = overrides.target === undefined ? 'target' : '--target';
  if (target === undefined) {
    top.problem('is required (or give --target)', 'target');
    return '';
  }
  let url: URL | undefined;
  try {
    url = new URL(target);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) top.problem(`${where === '--target' ? '(--target) ' : ''}must be an http(s) URL such as http://127.0.0.1:8787 (got ${JSON.stringify(target)})`, 'target');
  return target;
}

/** Every entry of `checks:`, in the file's order; the key is the check's name and, by default, its kind. */
function readChecks(top: Fields, defaults: { stream: string; as: string }, env: ReadEnv): CheckSpec[] {
  const section = top.section('checks');
  if (section === undefined) {
    top.problem('is required: a mapping of check name → its settings', 'checks');
    return [];
  }
  const specs: CheckSpec[] = [];
  for (const name of section.keys()) {
    const f = section.section(name);
    if (f === undefined) continue;
    const kind = f.string('kind', name) as CheckKind;
    if (!CHECK_KINDS.includes(kind)) {
      f.problem(`is not a check kind (kinds: ${CHECK_KINDS.join(', ')}; name the kind with 'kind:' when the check's name is another)`, f.has('kind') ? 'kind' : undefined);
      continue;
    }
    const stream = f.string('stream') ?? defaults.stream;
    if (stream === '') f.problem("needs a stream path: 'stream:' here or at the top", 'stream');
    const base: CheckBase = { name, kind, cites: f.requiredString('cites'), stream, as: f.has('as') ? (f.string('as') ?? defaults.as) : defaults.as };
    if (!env.identityNames.has(base.as)) f.problem(`names identity '${base.as}', which is not in identities`, 'as');
    specs.push((CHECK_READERS[kind] as (fields: Fields, b: CheckBase, e: ReadEnv) => CheckSpec)(f, base, env));
  }
  if (specs.length === 0 && top.has('checks')) section.problem('lists no check');
  return specs;
}

/** `--only` by check name or kind; a name that matches nothing is a problem naming the checks there are. */
function selectChecks(checks: readonly CheckSpec[], only: readonly string[] | undefined, problems: ProblemList): CheckSpec[] {
  if (only === undefined || only.length === 0) return [...checks];
  for (const wanted of only) {
    if (!checks.some((c) => c.name === wanted || c.kind === wanted)) problems.add(`--only ${wanted}: no such check (checks: ${checks.map((c) => c.name).join(', ')})`);
  }
  return checks.filter((c) => only.includes(c.name) || only.includes(c.kind));
}
