/**
 * `check`'s reporters (text, JUnit, Markdown) render what a check found safely: a server's
 * control characters never reach a terminal or an XML file raw, a token in evidence is
 * redacted, XML and table syntax in evidence is escaped, and an interrupted run is an error
 * case in JUnit.
 */
import { describe, expect, it } from 'vitest';
import type { CheckResult, CheckRunResult } from '../../src/check/result.js';
import { summarizeChecks } from '../../src/check/result.js';
import { renderCheckJunit } from '../../src/reporters/check-junit.js';
import { renderCheckMarkdown } from '../../src/reporters/check-markdown.js';
import { createCheckTextReporter } from '../../src/reporters/check-text.js';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

const checks: CheckResult[] = [
  { name: 'headers', kind: 'headers', cites: '§1 Response header', status: 'pass', evidence: '200; x-reconnect-delay: 3000', durationMs: 12 },
  { name: 'auth', kind: 'auth', cites: '§1 Auth', status: 'fail', evidence: `no token → 403 (detail: "a\u001b[2Jb <x> | y & ${JWT}"), contract: 401`, details: ['line\u0007two'], durationMs: 40 },
  { name: 'heartbeat', kind: 'heartbeat', cites: '§1 Keepalive', status: 'skip', evidence: 'would take 91.0 s', durationMs: 0 },
];

function runResult(isInterrupted: boolean): CheckRunResult {
  return {
    schemaVersion: 1,
    kind: 'check',
    tool: { name: 'ssekit', version: 'test' },
    contract: { name: 'admin-orders', source: 'contracts/admin-orders.yaml' },
    target: 'http://127.0.0.1:8787/',
    startedAt: '2026-12-01T00:00:00.000Z',
    endedAt: '2026-12-01T00:00:01.000Z',
    durationMs: 1000,
    ...summarizeChecks(checks, isInterrupted),
    checks,
  };
}

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

describe('check reporters', () => {
  it('counts verdicts: a failure fails the run, skips do not, Ctrl-C interrupts it', () => {
    expect(summarizeChecks(checks, false)).toEqual({ counts: { passed: 1, failed: 1, skipped: 1 }, endReason: 'failed' });
    expect(summarizeChecks([checks[0] as CheckResult, checks[2] as CheckResult], false).endReason).toBe('passed');
    expect(summarizeChecks(checks, true).endReason).toBe('interrupted');
  });

  it('text: PASS/FAIL/SKIP lines with escaped, redacted evidence and indented details', () => {
    const reporter = createCheckTextReporter({ useColor: false });
    const lines = checks.map((c) => reporter.checkLine(c)).join('\n');
    expect(lines).toContain('PASS headers: 200; x-reconnect-delay: 3000');
    expect(lines).toContain('FAIL auth: no token → 403 (detail: "a\\x1b[2Jb <x> | y & ***"), contract: 401\n       line\\x07two');
    expect(lines).toContain('SKIP heartbeat: would take 91.0 s');
    expect(lines).not.toMatch(CONTROL);
    expect(reporter.summary(runResult(false))).toBe('FAILED: 1 passed, 1 failed, 1 skipped (admin-orders against http://127.0.0.1:8787/ in 1.0 s)');
  });

  it('JUnit: a case per check, failure and skipped elements, XML-escaped, and an error case when interrupted', () => {
    const xml = renderCheckJunit(runResult(true));
    expect(xml).toMatch(/<testsuites tests="4" failures="1" errors="1" skipped="1" time="1\.000">/);
    expect(xml).toContain('<failure message="no token → 403 (detail: &quot;a\\x1b[2Jb &lt;x&gt; | y &amp; ***&quot;), contract: 401">');
    expect(xml).toContain('<skipped message="would take 91.0 s"/>');
    expect(xml).toContain('<testcase classname="ssekit.check.admin-orders" name="run">\n      <error message="interrupted">');
    expect(xml).not.toMatch(CONTROL);
    expect(xml).not.toContain(JWT);
  });

  it('Markdown: one table row per check, pipes escaped', () => {
    const markdown = renderCheckMarkdown(runResult(false));
    expect(markdown).toContain('### ssekit check · admin-orders: ❌ failed');
    expect(markdown).toContain('| `auth` | ❌ fail | no token → 403 (detail: "a\\x1b[2Jb <x> \\| y & ***"), contract: 401 |');
    expect(markdown).not.toMatch(CONTROL);
  });
});
