/** `GET /metrics` (CONTRACTS §1 "Metrics", issue 3 "Observability"). */
import { describe, expect, it } from 'vitest';
import { callJson, metricValue, openStream, startTestServer, TOKENS, until } from '../helpers/serve-process.js';

describe('serve /metrics', () => {
  it('exposes connections by role, emitted/delivered events and the duration histogram in Prometheus text', async () => {
    const server = await startTestServer();
    const admin = await TOKENS.admin();
    const a = await openStream(`${server.url}/api/admin/events`, { token: admin });
    const c = await openStream(`${server.url}/api/v1/notifications/customer/stream`, { token: await TOKENS.customer() });
    const metrics = async (): Promise<string> => (await callJson('GET', `${server.url}/metrics`)).body as string;
    const first = await callJson('GET', `${server.url}/metrics`);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(metricValue(first.body, 'sse_connections_active{role="admin"}')).toBe(1);
    expect(metricValue(first.body, 'sse_connections_active{role="customer"}')).toBe(1);
    expect(first.body).toContain('# TYPE sse_connection_duration_seconds histogram');
    expect(first.body).toContain('# TYPE admin_events_emitted_total counter');

    await callJson('POST', `${server.url}/orders`, { token: admin, body: { pickup_address: 'a', delivery_address: 'b', boxes_count: 1 } });
    await a.waitForEvent(() => true);
    const text = await metrics();
    expect(metricValue(text, 'admin_events_emitted_total{event_type="order.created"}')).toBe(1);
    expect(metricValue(text, 'sse_events_delivered_total{profile="admin-orders"}')).toBe(1);

    a.close();
    c.close();
    const after = await until(async () => {
      const t = await metrics();
      return metricValue(t, 'sse_connections_active{role="admin"}') === 0 && metricValue(t, 'sse_connections_active{role="customer"}') === 0 ? t : undefined;
    }, 5000, 'gauge back to 0');
    expect(metricValue(after, 'sse_connection_duration_seconds_count{role="admin"}')).toBe(1);
  });
});
