/**
 * `ssekit check` as a CI gate (issue 17): bad input is one `ssekit:` line and exit 2, an
 * unreachable target exit 3; JUnit and Markdown files are written (the summary appended);
 * nothing secret is printed; a check that would take longer than allowed is skipped with the
 * flag that shortens it; a fixed --token plays only the contract's default identity.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEV_JWT_SECRET } from '../../src/core/dev-jwt.js';
import { contractPath, fixturePath, runCheck } from '../fixtures/check/check-run.js';
import { runCli, startCli } from '../helpers/run-cli.js';
import { startTestServer, TOKENS } from '../helpers/serve-process.js';

const ADMIN_ORDERS = contractPath('admin-orders');
const MINT = ['--jwt-secret', DEV_JWT_SECRET];

function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('ssekit:'));
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('check usage errors', () => {
  it('names every problem of a broken contract at once, in one error, exit 2, no stack', async () => {
    const run = await runCli(['check', fixturePath('broken-contract.yaml'), '--target', 'http://127.0.0.1:9', ...MINT]);
    expect(run.exitCode).toBe(2);
    expect(errorLines(run.stderr)).toEqual([expect.stringMatching(/^ssekit: \d+ problems in broken-contract\.yaml:$/)]);
    expect(run.stderr).toContain('  checks.heartbeat.interval must be a duration with a unit, such as 500ms, 30s or 2m (got 30)');
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  it.each([
    [['--heartbeat-interval', '5'], /^ssekit: --heartbeat-interval 5: 5 what\? write 5s \(or 5ms\)$/],
    [['--role', 'admin'], /^ssekit: --role does not apply to check: each check mints its tokens from the contract's identities/],
    [['--only', 'nope'], /^ssekit: admin-orders\.yaml: --only nope: no such check \(checks: headers, auth, heartbeat,/],
    [['--target', 'ftp://x'], /^ssekit: --target: 'ftp:' is not supported here, use http:\/\/ or https:\/\/$/],
  ])('refuses %j in one line (exit 2)', async (flags, message) => {
    const run = await runCli(['check', ADMIN_ORDERS, ...MINT, ...flags]);
    expect(run.exitCode).toBe(2);
    expect(errorLines(run.stderr)).toEqual([expect.stringMatching(message)]);
  });

  it('needs credentials for a contract whose checks act as identities', async () => {
    const run = await runCli(['check', ADMIN_ORDERS, '--target', 'http://127.0.0.1:9']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/give --jwt-secret \(or --jwt-key\) to mint their tokens, or --token/);
  });

  it('exits 3 when nothing listens at the target, before any check', async () => {
    const run = await runCli(['check', ADMIN_ORDERS, '--target', `http://127.0.0.1:${await closedPort()}`, ...MINT]);
    expect(run.exitCode).toBe(3);
    expect(errorLines(run.stderr)).toEqual([expect.stringMatching(/^ssekit: cannot reach the target: connection refused: http:\/\/127\.0\.0\.1:\d+\/api\/admin\/events$/)]);
    expect(run.stdout).toBe('');
  });
});

describe('check outputs', () => {
  it('prints a line per check, writes JUnit, appends the Markdown summary, and never prints a secret', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const dir = await mkdtemp(join(tmpdir(), 'ssekit-check-'));
    const junit = join(dir, 'check.xml');
    const summary = join(dir, 'summary.md');
    const args = ['check', ADMIN_ORDERS, '--target', server.url, ...MINT, '--only', 'headers', '--only', 'auth', '--junit', junit, '--summary-md', summary, '--cites'];
    const first = await runCli(args);
    const second = await runCli(args);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stdout.split('\n')[0]).toBe('PASS headers: 200; content-type: text/event-stream; x-reconnect-delay: 3000; x-accel-buffering: no');
    expect(first.stdout).toContain('       cites §1 Response header `X-Reconnect-Delay: 3000`');
    expect(first.stdout).toMatch(/^PASSED: 2 passed, 0 failed, 0 skipped \(admin-orders against http:\/\/127\.0\.0\.1:\d+\/ in .*\)$/m);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(/<testsuite name="ssekit check admin-orders" tests="2" failures="0" errors="0" skipped="0"/);
    expect(xml).toContain('<testcase classname="ssekit.check.admin-orders" name="auth"');
    const markdown = await readFile(summary, 'utf8');
    expect(markdown.match(/^### ssekit check · admin-orders: ✅ passed$/gm)).toHaveLength(2);
    expect(markdown).toContain('| `headers` | ✅ pass | 200; content-type: text/event-stream;');
    for (const text of [first.stdout, first.stderr, second.stdout, xml, markdown]) {
      expect(text).not.toContain(DEV_JWT_SECRET);
      expect(text).not.toMatch(/eyJ[\w-]{5,}\./);
    }
  });

  it('skips a check that would take longer than --max-check-time, naming the flag that shortens it (exit 0)', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const run = await runCheck(ADMIN_ORDERS, server.url, ['--only', 'heartbeat', '--only', 'headers', '--max-check-time', '10s']);
    expect(run.exitCode).toBe(0);
    expect(run.names('skip')).toEqual(['heartbeat']);
    expect(run.evidence('heartbeat')).toBe('would take 91.0 s, over --max-check-time 10.0 s: shorten it with --heartbeat-interval (with the backend configured to match) or --heartbeat-observe');
    expect(run.result.endReason).toBe('passed');
  });

  it('plays only the default identity with a fixed --token: the cases needing another are skipped, the rest run', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const run = await runCli(['check', ADMIN_ORDERS, '--target', server.url, '--token', await TOKENS.admin(), '--only', 'auth', '--json']);
    expect(run.exitCode, run.stderr).toBe(0);
    const evidence = (JSON.parse(run.stdout) as { checks: { evidence: string }[] }).checks[0]?.evidence;
    expect(evidence).toBe(
      "no token → 401; customer Bearer: skipped (identity 'customer' needs minting: give --jwt-secret or --jwt-key instead of --token (it stands for 'admin')); expired Bearer: skipped (an expired token needs minting: give --jwt-secret or --jwt-key instead of --token); Bearer → 200; ?token= → 200",
    );
  });
});

describe('check interrupted', () => {
  it('stops at Ctrl-C, reports what ran, writes the JUnit with an error case, and exits 130', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const dir = await mkdtemp(join(tmpdir(), 'ssekit-check-'));
    const junit = join(dir, 'check.xml');
    // The contract's own 30 s keepalive: watched for 91 s unless interrupted.
    const check = startCli(['check', ADMIN_ORDERS, '--target', server.url, ...MINT, '--only', 'headers', '--only', 'heartbeat', '--junit', junit]);
    await check.waitForLine(/^checking heartbeat \(up to 1 m 31 s\)…$/);
    check.child.kill('SIGINT');
    const run = await check.result();
    expect(run.exitCode, run.stderr).toBe(130);
    expect(run.stdout).toMatch(/^PASS headers: /m);
    expect(run.stdout).toMatch(/^FAIL heartbeat: interrupted \(Ctrl-C\) before the check finished$/m);
    expect(run.stdout).toMatch(/^INTERRUPTED: 1 passed, 1 failed, 0 skipped before Ctrl-C/m);
    expect(await readFile(junit, 'utf8')).toContain('<error message="interrupted">');
  });
});
