/**
 * A backend ssekit did not write: `test/fixtures/fastapi/admin_events.py`, seed 000 on FastAPI
 * and uvicorn (Debian's python3-fastapi, python3-uvicorn, python3-jwt), run by the system
 * Python. Tests that need it skip with a printed reason when those packages are missing, except
 * under `CI=true`, where `.ci/run` installs them and a missing one fails.
 */
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import { isCi } from './brokers.js';

const APP = fileURLToPath(new URL('../fixtures/fastapi/admin_events.py', import.meta.url));
/** The system Python (Debian's packages live there, not in a pyenv one earlier on PATH). */
const PYTHON = '/usr/bin/python3';

/** A running FastAPI backend. */
export interface FastApiServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  close(): Promise<void>;
}

let probe: Promise<string | undefined> | undefined;

/** Why FastAPI cannot run here, or undefined when it can (probed once per process). */
function unavailableReason(): Promise<string | undefined> {
  probe ??= new Promise((resolve) => {
    execFile(PYTHON, ['-c', 'import fastapi, uvicorn, jwt'], { timeout: 10_000 }, (error, _stdout, stderr) => {
      resolve(error === null ? undefined : `FastAPI not importable by ${PYTHON} (apt-get install python3-fastapi python3-uvicorn python3-jwt): ${stderr.trim().split('\n').pop() ?? error.message}`);
    });
  });
  return probe;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/**
 * Starts the FastAPI backend (stopped when the test finishes) with `env` knobs such as
 * `LOSE_EVERY` or `KEEPALIVE_SECONDS`; skips the test (or fails, under CI) when it cannot run.
 */
export async function requireFastApi(context: { skip: (note?: string) => void }, env: Record<string, string> = {}): Promise<FastApiServer> {
  const reason = await unavailableReason();
  if (reason !== undefined) {
    if (isCi) throw new Error(`${reason} (CI=true: tests against FastAPI must run)`);
    console.warn(`skipping: ${reason}`);
    context.skip(reason);
  }
  const port = await freePort();
  const child = spawn(PYTHON, [APP], { env: { ...process.env, ...env, PORT: String(port), PYTHONDONTWRITEBYTECODE: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  onTestFinished(close);
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const response = await fetch(`${origin}/metrics`);
      if (response.ok) return { origin, close };
    } catch {
      // Not listening yet.
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the FastAPI backend did not start: ${stderr.slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
