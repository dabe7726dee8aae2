/**
 * Mistakes a new user makes get one clear line and the documented exit code, quickly:
 * a fleet that cannot open a single stream says why (3, 4 or 5) instead of running its
 * whole duration; producers and secrets are checked before anything is published.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEV_JWT_SECRET } from '../../src/core/dev-jwt.js';
import { runCli } from '../helpers/run-cli.js';
import { startTestServer, TOKENS } from '../helpers/serve-process.js';

const firstLine = (text: string): string => text.split('\n').find((line) => line.startsWith('ssekit:')) ?? '';

describe('bench says why no stream opened', () => {
  it('exits 4 when the server refuses every client', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const run = await runCli(['bench', `${server.url}/api/admin/events`, '--jwt-secret', 'not-the-secret', '--claims', '{"role":"admin","sub":"{{vu}}"}', '-c', '3', '--ramp', '0s', '-d', '30s']);
    expect(run.exitCode).toBe(4);
    expect(firstLine(run.stderr)).toBe('ssekit: every client was refused: 401 Unauthorized (3 clients)');
  });

  it('exits 5 when the target is not an SSE stream', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const run = await runCli(['bench', `${server.url}/metrics`, '-c', '2', '--ramp', '0s', '-d', '30s']);
    expect(run.exitCode).toBe(5);
    expect(firstLine(run.stderr)).toMatch(/^ssekit: the target is not an SSE stream: Content-Type text\/plain/);
  });

  it('exits 3 when nothing listens', async () => {
    const run = await runCli(['bench', 'http://127.0.0.1:9/events', '-c', '2', '--ramp', '0s', '-d', '30s', '--connect-timeout', '1s']);
    expect(run.exitCode).toBe(3);
    expect(firstLine(run.stderr)).toMatch(/^ssekit: no client could open its stream: cannot connect: connection refused/);
  });

  it('lists bad thresholds of a scenario with its other problems', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'ssekit-')), 'bad.yaml');
    await writeFile(file, 'target: http://127.0.0.1:8787\nstreams: [/a]\nclients: 5\nthresholds: ["p99<<5"]\nchurn: {mode: nope}\n');
    const run = await runCli(['bench', file]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("bad.yaml: thresholds[0] 'p99<<5': not of the form");
    expect(run.stderr).toContain('bad.yaml: churn.mode must be one of');
  });
});

describe('publish and stats check before they start', () => {
  it('publish exits 3 when the HTTP producer does not listen', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const run = await runCli(['publish', 'http://127.0.0.1:9/orders', '--watch', `${server.url}/api/admin/events`, '--token', await TOKENS.admin()]);
    expect(run.exitCode).toBe(3);
    expect(firstLine(run.stderr)).toMatch(/^ssekit: cannot connect to the producer: .*connection refused/);
  });

  it('publish refuses an AMQP URL without a routing key, and a body that is not JSON', async () => {
    const amqp = await runCli(['publish', 'amqp://guest:guest@127.0.0.1:5672/crm.domain', '--watch', 'http://127.0.0.1:9/s']);
    expect(amqp.exitCode).toBe(2);
    expect(amqp.stderr).toMatch(/names no routing key/);
    const body = await runCli(['publish', 'http://127.0.0.1:9/orders', '--watch', 'http://127.0.0.1:9/s', '-d', '{bad {{nonce}}']);
    expect(body.exitCode).toBe(2);
    expect(body.stderr).toMatch(/--data is not valid JSON/);
  });

  it('an empty JWT secret is a usage error, not a bug', async () => {
    for (const args of [['token', '--jwt-secret', ''], ['listen', 'http://127.0.0.1:9/s', '--jwt-secret', '', '--role', 'admin']]) {
      const run = await runCli(args);
      expect(run.exitCode).toBe(2);
      expect(firstLine(run.stderr)).toBe('ssekit: --jwt-secret must not be empty');
    }
  });

  it('stats on a stream URL says so at once (exit 5) instead of waiting for a body', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const run = await runCli(['stats', `${server.url}/api/admin/events`, '--jwt-secret', DEV_JWT_SECRET, '--role', 'admin', '--sub', '1']);
    expect(run.exitCode).toBe(5);
    expect(firstLine(run.stderr)).toMatch(/^ssekit: this is an SSE stream, not a stats endpoint/);
  });
});

describe('auth flags that contradict each other', () => {
  it('a token flag and JWT-minting flags together are a usage error in every command', async () => {
    for (const command of [['listen', 'http://127.0.0.1:9/s'], ['bench', 'http://127.0.0.1:9/s']]) {
      const run = await runCli([...command, '--token', 'opaque-token', '--jwt-secret', 's3cret', '--role', 'admin']);
      expect(run.exitCode).toBe(2);
      expect(firstLine(run.stderr)).toMatch(/^ssekit: give either a token \(--token or SSEKIT_TOKEN\) or --jwt-secret/);
      expect(run.stderr).not.toContain('opaque-token');
    }
  });

  it('a flag wins over the environment: --jwt-secret over an exported SSEKIT_TOKEN', async () => {
    const run = await runCli(['listen', 'http://127.0.0.1:9/s', '--jwt-secret', 's3cret', '--role', 'admin', '--no-reconnect'], { env: { SSEKIT_TOKEN: 'opaque-token' } });
    expect(run.exitCode).toBe(3); // got as far as connecting: no usage error
  });
});
