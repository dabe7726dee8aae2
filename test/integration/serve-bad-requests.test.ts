/** Bad requests get a 4xx JSON error, never a crash (issue 3 "Behaviour under load and shutdown"). */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { callJson, openStream, startTestServer, TOKENS } from '../helpers/serve-process.js';

describe('serve bad requests', () => {
  it('answers unknown paths 404 and wrong methods 405 with a JSON error', async () => {
    const server = await startTestServer();
    const missing = await callJson('GET', `${server.url}/api/v1/streams/nope`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'not_found', error: expect.any(String) });
    const wrongMethod = await callJson('DELETE', `${server.url}/orders`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
  });

  it('answers malformed JSON 400, a non-object 400, an oversized body 413, and keeps serving', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'], maxBodyBytes: 1024 });
    const token = await TOKENS.admin();
    const stream = await openStream(`${server.url}/api/admin/events`, { token });
    expect((await callJson('POST', `${server.url}/orders`, { token, rawBody: '{"pickup_address":' })).body).toMatchObject({ code: 'malformed_json' });
    expect((await callJson('POST', `${server.url}/orders`, { token, rawBody: '[1,2]' })).body).toMatchObject({ code: 'invalid_body' });
    const big = await callJson('POST', `${server.url}/orders`, { token, body: { pickup_address: 'x'.repeat(5000), delivery_address: 'b', boxes_count: 1 } });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ code: 'body_too_large' });
    const ok = await callJson('POST', `${server.url}/orders`, { token, body: { pickup_address: 'a', delivery_address: 'b', boxes_count: 1 } });
    expect(ok.status).toBe(201);
    await stream.waitForEvent(() => true);
  });

  it('answers a malformed HTTP request 400 on the socket', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(server.port, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect((await callJson('GET', `${server.url}/`)).status).toBe(200);
  });
});
