/**
 * The README's CI job for `ssekit check` stays copy-pasteable: it is valid YAML with the steps
 * it promises, and every flag its `ssekit serve` and `ssekit check` lines use is one those
 * commands have (read from their registrations, not from a list kept by hand).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { registerCheckCommand } from '../../src/cli/commands/check.js';
import { registerServeCommand } from '../../src/cli/commands/serve.js';

const README = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

function ciJob(): { steps: { name?: string; run?: string; uses?: string }[] } {
  const start = README.indexOf('### A CI job that gates on `ssekit check`');
  const block = /```yaml\n([\s\S]*?)```/.exec(README.slice(start));
  const workflow = parse(block?.[1] ?? '') as { jobs: Record<string, { steps: { name?: string; run?: string; uses?: string }[] }> };
  return Object.values(workflow.jobs)[0] as { steps: { name?: string; run?: string; uses?: string }[] };
}

function flagsOf(register: (program: Command, run: () => Promise<void>) => void, name: string): Set<string> {
  const program = new Command();
  register(program, async () => undefined);
  const command = program.commands.find((c) => c.name() === name);
  return new Set((command?.options ?? []).flatMap((o) => [o.long, o.short]).filter((f): f is string => f !== undefined));
}

/** The `--flags` of every `ssekit <command>` invocation in a script (continuation lines joined). */
function flagsUsed(script: string, command: string): string[] {
  const joined = script.replace(/\\\n\s*/g, ' ');
  return [...joined.matchAll(new RegExp(`ssekit ${command} ([^\\n&|]*)`, 'g'))].flatMap((m) => (m[1] ?? '').match(/--[a-z-]+/g) ?? []);
}

describe('the README CI job', () => {
  it('installs ssekit, starts a backend, and gates on ssekit check with JUnit and the step summary', () => {
    const runs = ciJob().steps.map((s) => s.run ?? '').join('\n');
    expect(runs).toContain('npm ci && npm run build');
    expect(runs).toMatch(/ssekit serve .*&\n/);
    expect(runs).toMatch(/ssekit check "\$RUNNER_TEMP\/ssekit\/contracts\/admin-orders\.yaml" --target http:\/\/127\.0\.0\.1:8787/);
    expect(runs).toContain('--summary-md "$GITHUB_STEP_SUMMARY"');
  });

  it('uses only flags that ssekit serve and ssekit check have', () => {
    const runs = ciJob().steps.map((s) => s.run ?? '').join('\n');
    const serveFlags = flagsOf(registerServeCommand, 'serve');
    const checkFlags = flagsOf(registerCheckCommand, 'check');
    expect(flagsUsed(runs, 'serve').filter((f) => !serveFlags.has(f))).toEqual([]);
    expect(flagsUsed(runs, 'check').filter((f) => !checkFlags.has(f))).toEqual([]);
    expect(flagsUsed(runs, 'check')).toEqual(['--target', '--heartbeat-interval', '--inactivity-timeout', '--junit', '--summary-md']);
  });
});
