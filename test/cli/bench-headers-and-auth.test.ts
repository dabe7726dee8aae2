/**
 * bench's requests carry what the user asked for: `-H` headers on every stream and on the
 * server-stats reads, and one minted token per virtual user (`{{vu}}` in the claims).
 */
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import type { BenchResult } from '../../src/metrics/bench-result.js';
import { runCli } from '../helpers/run-cli.js';
import { frame, startSseServer } from '../helpers/sse-server.js';

describe('bench request headers and auth', () => {
  it('sends -H headers on streams and stats reads, and mints a token per virtual user', async () => {
    const server = await startSseServer((req, res) => {
      if (req.headers['x-tenant'] !== 'acme') {
        res.writeHead(403).end();
        return;
      }
      if (req.url === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end('# TYPE open gauge\nopen 0\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(frame({ data: 'hello' }));
    });
    const run = await runCli(
      [
        'bench', `${server.origin}/stream`, '-H', 'X-Tenant: acme',
        '--jwt-secret', 'bench-secret', '--claims', '{"role":"admin","sub":"vu-{{vu}}"}',
        '--clients', '3', '--ramp', '0s', '--duration', '1s', '--leak-grace', '200ms',
        '--server-stats', `${server.origin}/metrics`, '--server-metric', 'open', '--threshold', 'errors==0', '--json',
      ],
      { timeoutMs: 30_000 },
    );
    expect(run.exitCode, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as BenchResult;
    expect(result.statuses).toEqual({ '200': 3 });
    expect(result.leak.verdict).toBe('ok');
    const streamRequests = server.requests.filter((r) => r.url === '/stream');
    expect(streamRequests).toHaveLength(3);
    const subs = streamRequests.map((r) => decodeJwt(String(r.headers['authorization']).replace(/^Bearer /, '')).sub).sort();
    expect(subs).toEqual(['vu-0', 'vu-1', 'vu-2']);
    expect(server.requests.filter((r) => r.url === '/metrics').length).toBeGreaterThan(0);
    // The secret and the tokens never reach the output.
    expect(run.stdout + run.stderr).not.toContain('bench-secret');
    expect(run.stdout + run.stderr).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
  });
});
