/**
 * Server text in messages (core/escape.ts) and what counts as a secret header (core/redact.ts),
 * as the transport uses them: JSON error bodies quoted by `code`, `error`, `detail` (FastAPI) or
 * `message`; every quote escaped; the no-token hint; proxy exclusions.
 */
import { describe, expect, it } from 'vitest';
import { errorBodySummary, escapeJsonText, quoteServerText } from '../../src/core/escape.js';
import { isSecretHeaderName, redactHeaders } from '../../src/core/redact.js';
import { lastEventIdHeaderValue, statusErrorFor } from '../../src/transport/open-stream.js';
import { proxyFor, proxySettingsFromEnv } from '../../src/transport/proxy.js';

const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/;

describe('error bodies', () => {
  it.each([
    ['{"code":"stream_limit","message":"at most 5"}', 'stream_limit'],
    ['{"detail":"Not authenticated"}', 'Not authenticated'],
    ['{"detail":[{"loc":["body","prompt"],"msg":"field required","type":"value_error.missing"}]}', 'body.prompt: field required'],
    ['{"detail":[{"loc":["body","a"],"msg":"m1"},{"loc":["body","b"],"msg":"m2"},{"msg":"m3"},{"msg":"m4"}]}', 'body.a: m1; body.b: m2; m3 (+1 more)'],
    ['{"message":"quota exceeded"}', 'quota exceeded'],
    ['{"error":{"message":"bad key","type":"auth"}}', 'bad key'],
    ['{"error":"invalid_token"}', 'invalid_token'],
    // Spring Boot: `error` is the status's reason phrase, `message` says what happened.
    ['{"status":403,"error":"Forbidden","message":"token expired","path":"/events"}', 'token expired'],
    ['{"error":"Forbidden","detail":"Not authenticated"}', 'Not authenticated'],
  ])('quotes the summary of %s', (body, expected) => {
    expect(errorBodySummary(body)).toBe(expected);
  });

  it.each(['not json', '[1,2]', '{"other":1}', '{"code":""}', ''])('has no summary for %j', (body) => {
    expect(errorBodySummary(body)).toBeUndefined();
  });

  it('escapes and cuts what it quotes', () => {
    const quoted = quoteServerText('\u001b]52;c;AAAA\u0007\u009b2J\u2028' + 'x'.repeat(300));
    expect(quoted).not.toMatch(RAW_CONTROL);
    expect(quoted.length).toBeLessThan(260);
    expect(escapeJsonText(JSON.stringify('a\u0085b'))).toBe('"a\\u0085b"');
    expect(JSON.parse(escapeJsonText(JSON.stringify('\u2028\u007f')))).toBe('\u2028\u007f');
  });

  it('gives the no-token hint for a 401/403 without credentials, the role hint with them', () => {
    const refused = (status: number, hasCredentials: boolean) => statusErrorFor({ status, headers: {}, body: '{"detail":"Not authenticated"}', where: 'GET http://x/events', hasCredentials });
    expect(refused(403, false).hint).toMatch(/^no token was sent: give --token, SSEKIT_TOKEN, --token-file or --jwt-secret/);
    expect(refused(401, false).hint).toMatch(/^no token was sent/);
    expect(refused(403, true).hint).toMatch(/lacks the role/);
    expect(refused(403, true).message).toBe('server answered 403 Forbidden ("Not authenticated"): GET http://x/events');
  });
});

describe('secret headers', () => {
  it.each(['Authorization', 'proxy-authorization', 'Cookie', 'X-Api-Key', 'api-key', 'X-Auth-Token', 'x-access-token', 'X-Session-Id', 'x-client-secret'])('%s is a secret', (name) => {
    expect(isSecretHeaderName(name)).toBe(true);
  });
  it.each(['accept', 'x-tenant', 'x-trace-id', 'content-type', 'last-event-id', 'x-request-id'])('%s is not', (name) => {
    expect(isSecretHeaderName(name)).toBe(false);
  });
  it('redacts them in header dumps', () => {
    expect(redactHeaders({ 'X-Api-Key': 'k', accept: 'a' })).toEqual({ 'X-Api-Key': '***', accept: 'a' });
  });
});

describe('Last-Event-ID', () => {
  it('is sent as the UTF-8 bytes of the id, one per header character', () => {
    const value = lastEventIdHeaderValue('€-日本-é');
    expect([...value].every((c) => c.charCodeAt(0) <= 0xff)).toBe(true);
    expect(Buffer.from(value, 'latin1').toString('utf8')).toBe('€-日本-é');
    expect(lastEventIdHeaderValue('plain-42')).toBe('plain-42');
  });
});

describe('proxy settings', () => {
  const settings = proxySettingsFromEnv({ HTTPS_PROXY: 'http://upper:3128', https_proxy: 'http://lower:3128', HTTP_PROXY: 'http://plain:3128', NO_PROXY: 'internal.example,.corp, db:5432' });
  it('prefers the lower-case variable, as curl does', () => {
    expect(settings.httpsProxy).toBe('http://lower:3128');
  });
  it('applies NO_PROXY and never proxies loopback', () => {
    expect(proxyFor(new URL('https://api.example.com/e'), settings)).toBe('http://lower:3128');
    expect(proxyFor(new URL('http://api.example.com/e'), settings)).toBe('http://plain:3128');
    expect(proxyFor(new URL('https://internal.example/e'), settings)).toBeUndefined();
    expect(proxyFor(new URL('https://a.b.corp/e'), settings)).toBeUndefined();
    expect(proxyFor(new URL('http://db:5432/e'), settings)).toBeUndefined();
    expect(proxyFor(new URL('http://db:80/e'), settings)).toBe('http://plain:3128');
    for (const url of ['http://127.0.0.1:8787/e', 'http://127.9.9.9/e', 'http://localhost:1/e', 'http://[::1]:8080/e']) expect(proxyFor(new URL(url), settings), url).toBeUndefined();
    expect(proxyFor(new URL('https://x.example/e'), proxySettingsFromEnv({ NO_PROXY: '*', HTTPS_PROXY: 'http://p:1' }))).toBeUndefined();
    expect(proxyFor(new URL('https://x.example/e'), proxySettingsFromEnv({}))).toBeUndefined();
  });
});
