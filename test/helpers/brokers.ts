/**
 * Broker availability for tests (STYLE "Brokers"): Redis (127.0.0.1:6379) and AMQP
 * (127.0.0.1:5672) are probed once per test process with a plain TCP connect. A broker test
 * skips with a printed reason when its broker is unreachable, except under `CI=true`, where a
 * missing broker is a failure (CI must really run them).
 *
 * Usage: `const redis = await brokerAvailable('redis'); it.skipIf(!redis.isUp)(...)`, or
 * `requireBroker('redis')` inside a test (skips/fails itself).
 */
import { connect } from 'node:net';

/** A broker the tests know how to reach. */
export type BrokerName = 'redis' | 'amqp';

/** Where each broker is expected; override with SSEKIT_TEST_REDIS_URL / SSEKIT_TEST_AMQP_URL. */
export const BROKER_URLS: Readonly<Record<BrokerName, string>> = {
  redis: process.env['SSEKIT_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379',
  amqp: process.env['SSEKIT_TEST_AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672',
};

/** Probe result. */
export interface BrokerStatus {
  readonly name: BrokerName;
  readonly url: string;
  readonly isUp: boolean;
  /** Why it is considered down (for the skip message). */
  readonly reason: string;
}

const probes = new Map<BrokerName, Promise<BrokerStatus>>();

/** Probes a broker once per process (TCP connect, 1 s timeout). */
export function brokerAvailable(name: BrokerName): Promise<BrokerStatus> {
  let probe = probes.get(name);
  if (!probe) {
    probe = tcpProbe(name, BROKER_URLS[name]);
    probes.set(name, probe);
  }
  return probe;
}

/** True when broker tests must not be skipped (CI). */
export const isCi = process.env['CI'] === 'true';

/**
 * Call at the top of a broker test with vitest's test context: returns the URL when the broker
 * is up; otherwise skips the test with a printed reason, or throws under CI=true.
 */
export async function requireBroker(name: BrokerName, context: { skip: (note?: string) => void }): Promise<string> {
  const status = await brokerAvailable(name);
  if (status.isUp) return status.url;
  const message = `${name} unreachable at ${status.url}: ${status.reason}`;
  if (isCi) throw new Error(`${message} (CI=true: broker tests must run)`);
  console.warn(`skipping: ${message}`);
  context.skip(message);
  return status.url;
}

function tcpProbe(name: BrokerName, url: string): Promise<BrokerStatus> {
  const parsed = new URL(url);
  const port = Number(parsed.port || (name === 'redis' ? 6379 : 5672));
  const host = parsed.hostname || '127.0.0.1';
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (isUp: boolean, reason: string): void => {
      socket.destroy();
      resolve({ name, url, isUp, reason });
    };
    socket.setTimeout(1000, () => done(false, 'connect timed out after 1 s'));
    socket.once('connect', () => done(true, 'reachable'));
    socket.once('error', (error: NodeJS.ErrnoException) => done(false, error.code ?? error.message));
  });
}
