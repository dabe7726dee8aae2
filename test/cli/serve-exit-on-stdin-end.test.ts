/**
 * `serve --exit-on-stdin-end` (issue 11 point 3): a parent that starts serve as its child (bench's
 * embedded target) keeps serve's stdin open; when the parent goes, even by SIGKILL, the pipe
 * closes and serve shuts down as on SIGTERM, so no orphan server is left behind.
 */
import { spawn } from 'node:child_process';
import { execa } from 'execa';
import { describe, expect, it, onTestFinished } from 'vitest';
import { isAlive } from '../helpers/processes.js';
import { BIN } from '../helpers/run-cli.js';
import { openStream, until } from '../helpers/serve-process.js';

const LISTENING = /ssekit serve listening on (http:\/\/127\.0\.0\.1:\d+)/;

/** Resolves with the first match of `pattern` in what `read` returns, polling as output comes. */
function waitForOutput(read: () => string, pattern: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> {
  return until(() => pattern.exec(read()) ?? undefined, timeoutMs, `${pattern} in:\n${read()}`);
}

describe('serve --exit-on-stdin-end', () => {
  it('shuts down cleanly, exit 0, when its stdin is closed', async () => {
    const child = execa('node', [BIN, 'serve', '--port', '0', '--quiet', '--profile', 'store', '--exit-on-stdin-end'], { reject: false, stdin: 'pipe', env: { NO_COLOR: '1' } });
    onTestFinished(() => void child.kill('SIGKILL'));
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const url = (await waitForOutput(() => stdout, LISTENING))[1] as string;
    const token = (await waitForOutput(() => stdout, /admin:\s+(eyJ\S+)/))[1] as string;
    const stream = await openStream(`${url}/admin/orders/sse`, { token });
    await stream.waitForEvent((event) => event.event === 'initial');
    const closedAt = Date.now();
    child.stdin?.end();
    expect(await stream.ended).toBe('clean');
    const result = await child;
    expect(result.exitCode).toBe(0);
    // Bounded by the brief: "serve exits within a couple of seconds".
    expect(Date.now() - closedAt).toBeLessThan(3000);
  });

  it('exits when the parent that holds its stdin is SIGKILLed (no orphan)', async () => {
    const script = `
      const { spawn } = require('node:child_process');
      const child = spawn(process.execPath, [${JSON.stringify(BIN)}, 'serve', '--port', '0', '--quiet', '--profile', 'store', '--exit-on-stdin-end'], { stdio: ['pipe', 'inherit', 'inherit'] });
      console.log('serve pid ' + child.pid);
      setInterval(() => undefined, 1000);`;
    const parent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    onTestFinished(() => void parent.kill('SIGKILL'));
    let stdout = '';
    parent.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const pid = Number((await waitForOutput(() => stdout, /serve pid (\d+)/))[1]);
    onTestFinished(() => {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    });
    await waitForOutput(() => stdout, LISTENING);
    expect(isAlive(pid)).toBe(true);
    parent.kill('SIGKILL');
    await until(() => !isAlive(pid), 5000, 'serve to exit after its parent was killed');
  });
});
