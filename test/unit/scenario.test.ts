import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { buildPlan, readScenarioFile, resolveAgainst } from '../../src/bench/scenario.js';
import { parseThreshold } from '../../src/metrics/thresholds.js';

const base = { target: 'http://127.0.0.1:8787', streams: ['/api/admin/events'], clients: { count: 10 } };

describe('scenario validation', () => {
  it('names the file and the field', () => {
    expect(() => buildPlan({ ...base, clients: { count: -3 } }, {}, 'scenario.yaml')).toThrow('scenario.yaml: clients.count must be a positive integer');
  });

  it('reports every problem at once', () => {
    let error: unknown;
    try {
      buildPlan({ streams: [], clients: { count: 'many' }, duration: 'forever', churn: { mode: 'explode' }, colour: 'blue' }, {}, 's.yaml');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UsageError);
    const message = (error as Error).message;
    for (const part of ['colour is not a scenario field', 'target is required', 'streams must list', 'clients.count must be a positive integer', 'duration must be a duration', 'churn.mode must be one of']) {
      expect(message).toContain(part);
    }
  });

  it('requires {{nonce}} in a publish body', () => {
    expect(() => buildPlan({ ...base, publish: { producer: '/orders', body: '{"a":1}' } }, {}, 's.yaml')).toThrow('publish.body must contain {{nonce}}');
  });

  it('lets flags override the file (k6 precedence)', () => {
    const plan = buildPlan({ ...base, duration: '60s' }, { clients: 99, durationMs: 2000, target: 'http://127.0.0.1:9000' }, 's.yaml');
    expect(plan).toMatchObject({ clients: 99, durationMs: 2000, target: 'http://127.0.0.1:9000' });
  });

  it('defaults thresholds to what the run measures', () => {
    expect(buildPlan(base, {}, 's.yaml').thresholds).toEqual(['errors<5%', 'open>=95%', 'lag.p99<50ms']);
    const full = buildPlan({ ...base, publish: { producer: '/orders', body: '{"x":"{{nonce}}"}' }, serverStats: { url: '/metrics', metric: 'g' } }, {}, 's.yaml');
    expect(full.thresholds).toEqual(['p99<500ms', 'loss==0', 'leaks==0', 'errors<5%', 'open>=95%', 'lag.p99<50ms', 'undercount==0']);
  });

  it('always judges the guards unless a threshold names the same figure', () => {
    expect(buildPlan({ ...base, thresholds: ['p99<1s'] }, {}, 's.yaml').thresholds).toEqual(['p99<1s', 'open>=95%', 'lag.p99<50ms']);
    expect(buildPlan(base, { thresholds: ['open>=50%', 'lag.p99<1s'] }, 's.yaml').thresholds).toEqual(['open>=50%', 'lag.p99<1s']);
  });

  it('resolves paths against the target', () => {
    expect(resolveAgainst('http://127.0.0.1:8787', '/orders')).toBe('http://127.0.0.1:8787/orders');
    expect(resolveAgainst('http://127.0.0.1:8787', 'redis://127.0.0.1:6379/admin:events')).toBe('redis://127.0.0.1:6379/admin:events');
  });
});

describe('the shipped scenarios', () => {
  const dir = fileURLToPath(new URL('../../scenarios/', import.meta.url));
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

  it('cover the four seed systems', () => {
    expect(files.sort()).toEqual(['admin-orders.yaml', 'gateway-channels.yaml', 'salon-notifications.yaml', 'store-orders.yaml']);
  });

  it.each(files)('%s is valid and cites its CONTRACTS section', async (file) => {
    const { raw, text } = await readScenarioFile(`${dir}${file}`);
    expect(text).toMatch(/CONTRACTS\.md §\d/);
    const plan = buildPlan(raw, {}, file);
    plan.thresholds.forEach((t) => parseThreshold(t));
    expect(plan.publish?.body).toContain('{{nonce}}');
    expect(plan.serverStats).toBeDefined();
  });
});
