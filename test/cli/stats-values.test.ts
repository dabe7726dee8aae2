/** Issue 11 point 11: stats shows values exactly, shows booleans, and says when a JSON body is not stats. */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { startTestServer } from '../helpers/serve-process.js';
import { jsonResponse, startSseServer } from '../helpers/sse-server.js';

describe('stats values', () => {
  it('shows numbers exactly as the server wrote them, and booleans as booleans', async () => {
    const server = await startSseServer(jsonResponse(200, { ratio: 0.1234567891, big: 123456789.125, healthy: true, draining: false, total: 5 }));
    const run = await runCli(['stats', server.url]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^ratio\s+untyped\s+0\.1234567891$/m);
    expect(run.stdout).toMatch(/^big\s+untyped\s+123456789\.125$/m);
    expect(run.stdout).toMatch(/^healthy\s+untyped\s+true$/m);
    expect(run.stdout).toMatch(/^draining\s+untyped\s+false$/m);
    expect(run.stdout).not.toMatch(/warning/);
    const gated = await runCli(['stats', server.url, '--expect', 'healthy==1']);
    expect(gated.exitCode).toBe(0);
  });

  it("warns that serve's index page is not a stats endpoint", async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const run = await runCli(['stats', `${server.url}/`]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/warning: this JSON holds no number, only text and lists: is it a stats endpoint\?/);
  });
});
