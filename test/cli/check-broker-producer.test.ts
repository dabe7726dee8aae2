/**
 * Issue 17: latency "through the contract's producer" when that producer is a broker — §1's
 * Redis channel `admin:events`, published to directly and forwarded by `ssekit serve --redis`.
 * Skips with a printed reason when Redis is down (fails under CI=true).
 */
import { describe, expect, it } from 'vitest';
import { describeRun, fixturePath, runCheck } from '../fixtures/check/check-run.js';
import { requireBroker } from '../helpers/brokers.js';
import { startTestServer } from '../helpers/serve-process.js';

describe('check latency through a Redis producer', () => {
  it('measures PUBLISH admin:events → the stream of a serve --redis worker', async (context) => {
    const redisUrl = await requireBroker('redis', context);
    if (redisUrl !== 'redis://127.0.0.1:6379') context.skip(`the fixture contract publishes to redis://127.0.0.1:6379, not ${redisUrl}`);
    const server = await startTestServer({ profiles: ['admin-orders'], redisUrl });
    const run = await runCheck(fixturePath('redis-producer.yaml'), server.url);
    expect(run.exitCode, describeRun(run)).toBe(0);
    expect(run.evidence('latency')).toMatch(/^3\/3 delivered, max \d+ ms < 500 ms \(p50 \d+ ms\)$/);
  });
});
