/**
 * The publish engine in process (`runPublish`) against the reference backend: fan-out to every
 * watcher, id correlation, loss when the server drops deliveries, and refusals before the
 * first event.
 */
import { describe, expect, it } from 'vitest';
import { HttpStatusError } from '../../src/core/errors.js';
import type { PublishedEvent } from '../../src/metrics/publish-result.js';
import { createProducer } from '../../src/producers/producer.js';
import { compileTemplate } from '../../src/producers/template.js';
import { runPublish, type PublishOptions } from '../../src/publish/run-publish.js';
import { parseFaults } from '../../src/serve/faults.js';
import type { ServeOptions } from '../../src/serve/server.js';
import { withStreamAgent } from '../../src/transport/agent.js';
import { startTestServer, TOKENS } from '../helpers/serve-process.js';

const never = new AbortController().signal;

async function publishTo(serve: ServeOptions, overrides: Partial<PublishOptions> & { listeners?: number } = {}, onEvent?: (event: PublishedEvent) => void) {
  const server = await startTestServer({ profiles: ['admin-orders'], maxStreamsPerUser: 0, ...serve });
  const token = { token: await TOKENS.admin() };
  return withStreamAgent({ connectTimeoutMs: 5_000 }, (dispatcher) =>
    runPublish(
      {
        producer: createProducer(`${server.url}/orders`, { headers: {}, token, dispatcher }),
        template: compileTemplate('{"pickup_address":"{{nonce}}","delivery_address":"x","boxes_count":1}'),
        correlation: { kind: 'marker' },
        watch: Array.from({ length: overrides.listeners ?? 1 }, () => ({ url: new URL(`${server.url}/api/admin/events`), display: 'events', token })),
        headers: {},
        count: 3,
        ratePerSecond: 50,
        timeoutMs: 1_000,
        // Generous: this checks completeness, not speed (the machine may be busy, and serve runs
        // in this process: its work is this event loop's lag).
        targetMs: 10_000,
        maxSelfLagMs: 5_000,
        gate: 'p99',
        maxEventBytes: 1 << 20,
        openTimeoutMs: 5_000,
        dispatcher,
        version: 'test',
        ...overrides,
      },
      { signal: never, ...(onEvent === undefined ? {} : { onEvent }) },
    ),
  );
}

describe('runPublish in process', () => {
  it('delivers every event to every watcher of a fan-out and reports each event in order', async () => {
    const events: PublishedEvent[] = [];
    const result = await publishTo({}, { listeners: 3, count: 4 }, (event) => void events.push(event));
    expect(result).toMatchObject({ kind: 'publish', endReason: 'passed', sent: 4, watchers: 3, expectedDeliveries: 12, delivered: 12, lost: 0, producerErrors: 0 });
    expect(result.latency.summary.count).toBe(12);
    expect(result.callLatency.summary.count).toBe(4);
    expect(events.map((e) => e.seq)).toEqual([0, 1, 2, 3]);
    expect(events.every((e) => e.delivered === 3 && e.expected === 3 && /^ssk_[0-9a-f]+_\d+_$/.test(e.id))).toBe(true);
  });

  it("correlates by the id in the producer's response", async () => {
    const result = await publishTo({}, { correlation: { kind: 'id', responsePath: 'order_id', eventPath: 'data.order_id' }, template: compileTemplate('{"pickup_address":"a","delivery_address":"b","boxes_count":2}') });
    expect(result.delivered).toBe(3);
    expect(result.events.map((e) => e.id)).toEqual(['1', '2', '3']);
  });

  it('fails with every delivery lost when the server drops them', async () => {
    const result = await publishTo({ faults: parseFaults(['drop=1']) }, { timeoutMs: 300 });
    expect(result.endReason).toBe('failed');
    expect(result.lost).toBe(3);
    expect(result.failures).toContain('3 of 3 deliveries lost (not seen within 300 ms)');
    expect(result.gateValueMs).toBeNull();
  });

  it('throws the refusal when a watcher cannot open (no token: 401), before publishing', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const run = withStreamAgent({}, (dispatcher) =>
      runPublish(
        {
          producer: createProducer(`${server.url}/orders`, { headers: {}, dispatcher }),
          template: compileTemplate('{"pickup_address":"{{nonce}}","delivery_address":"x","boxes_count":1}'),
          correlation: { kind: 'marker' },
          watch: [{ url: new URL(`${server.url}/api/admin/events`), display: 'events' }],
          headers: {},
          count: 1,
          ratePerSecond: 10,
          timeoutMs: 500,
          targetMs: 500,
          gate: 'p99',
          maxEventBytes: 1 << 20,
          openTimeoutMs: 5_000,
          dispatcher,
        },
        { signal: never },
      ),
    );
    await expect(run).rejects.toBeInstanceOf(HttpStatusError);
  });
});
