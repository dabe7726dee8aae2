import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, importPKCS8 } from 'jose';
import { describe, expect, it } from 'vitest';
import { callJson, mintToken, openStream, startTestServer, TOKENS } from '../helpers/serve-process.js';

const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('serve auth (issue 3 "Auth")', () => {
  it('answers 401 missing_token without a token', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const stream = await openStream(`${server.url}/api/admin/events`);
    expect(stream.status).toBe(401);
    expect(JSON.parse(await stream.body())).toMatchObject({ code: 'missing_token' });
  });

  it('answers 403 for a valid token with the wrong role', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const stream = await openStream(`${server.url}/api/admin/events`, { token: await TOKENS.customer() });
    expect(stream.status).toBe(403);
    expect(JSON.parse(await stream.body())).toMatchObject({ code: 'forbidden' });
  });

  it('answers 401 token_expired for an expired token', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const expired = await mintToken({ sub: '1', role: 'admin' }, { expiresAt: Math.floor(Date.now() / 1000) - 3600 });
    const stream = await openStream(`${server.url}/api/admin/events`, { token: expired });
    expect(stream.status).toBe(401);
    expect(JSON.parse(await stream.body())).toMatchObject({ code: 'token_expired' });
  });

  it('answers 401 for alg none, a wrong signature and garbage', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const none = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub: '1', role: 'admin', exp: Math.floor(Date.now() / 1000) + 600 })}.`;
    const wrongSecret = await mintToken({ sub: '1', role: 'admin' }, { secret: 'not-the-secret' });
    for (const token of [none, wrongSecret, 'garbage']) {
      const stream = await openStream(`${server.url}/api/admin/events`, { token });
      expect(stream.status).toBe(401);
      expect(JSON.parse(await stream.body())).toMatchObject({ code: 'invalid_token' });
    }
  });

  it('accepts the token in ?token= (CONTRACTS §1)', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const stream = await openStream(`${server.url}/api/admin/events?token=${await TOKENS.admin()}`);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream');
  });

  it('verifies RS256 and ES256 tokens with --jwt-public-key, and then refuses HS256', async () => {
    for (const [type, alg] of [['rsa', 'RS256'], ['ec', 'ES256']] as const) {
      const pair = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const publicKeyPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const privateKey = await importPKCS8(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), alg);
      const server = await startTestServer({ profiles: ['admin-orders'], jwt: { publicKeyPem } });
      const token = await new SignJWT({ sub: '1', role: 'admin' }).setProtectedHeader({ alg }).setExpirationTime('1h').sign(privateKey);
      const ok = await openStream(`${server.url}/api/admin/events`, { token });
      expect(ok.status).toBe(200);
      ok.close();
      const hs = await openStream(`${server.url}/api/admin/events`, { token: await TOKENS.admin() });
      expect(hs.status).toBe(401);
    }
  });

  it('checks roles on producers too: a customer cannot create orders', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const answer = await callJson('POST', `${server.url}/orders`, { token: await TOKENS.customer(), body: { pickup_address: 'a', delivery_address: 'b', boxes_count: 1 } });
    expect(answer.status).toBe(403);
  });
});
