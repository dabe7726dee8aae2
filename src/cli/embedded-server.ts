/**
 * The embedded default target of `ssekit bench`: the reference backend in a child process on a
 * free port (a separate process, so the server is never the bench's bottleneck and each side
 * has its own file-descriptor budget). Stopped with SIGTERM when the bench ends.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConnectError } from '../core/errors.js';
import type { CliContext } from './context.js';

const BIN = fileURLToPath(new URL('../../bin/ssekit.js', import.meta.url));

/** A running embedded server. */
export interface EmbeddedServer {
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts `ssekit serve --port 0 --profile admin-orders` and waits for its "listening on" line. */
export function startEmbeddedServer(ctx: CliContext, extraArgs: readonly string[] = []): Promise<EmbeddedServer> {
  // Its own process group: a Ctrl-C in the terminal reaches bench alone, which stops the server
  // only after the leak check (a server killed first makes the verdict always unknown). Its stdin
  // is a pipe bench holds open: if bench dies, even by SIGKILL, the pipe closes and the server
  // shuts down (--exit-on-stdin-end), so no orphan keeps the port.
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--quiet', '--profile', 'admin-orders', '--heartbeat', '5s', '--exit-on-stdin-end', ...extraArgs], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: embeddedEnv(ctx.env),
    detached: true,
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new ConnectError(`the embedded ssekit serve did not start within 15 s: ${output.slice(0, 300)}`));
    }, 15_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        // Keep draining its output so the child never blocks on a full pipe.
        child.stdout.resume();
        resolve({ url: match[1] as string, stop });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => void (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new ConnectError(`the embedded ssekit serve exited (${code ?? 'signal'}) before listening: ${output.slice(0, 300)}`));
    });
  });
}

/**
 * serve's settings from the environment are the user's real backend's, not the embedded one's:
 * with SSEKIT_REDIS_URL set, bench's orders would go out on the user's admin:events channel.
 * The JWT secret stays: bench signs its tokens with the same one.
 */
const SERVE_SETTINGS_FROM_ENV = ['SSEKIT_REDIS_URL', 'SSEKIT_AMQP_URL', 'SSEKIT_SERVE_PORT'] as const;

function embeddedEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const child: NodeJS.ProcessEnv = { ...env, NO_COLOR: '1' };
  for (const name of SERVE_SETTINGS_FROM_ENV) delete child[name];
  return child;
}
