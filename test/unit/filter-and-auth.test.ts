import { describe, expect, it } from 'vitest';
import { jwtVerify } from 'jose';
import { UsageError } from '../../src/core/errors.js';
import { createEventFilter, globToRegExp } from '../../src/stream/filter.js';
import { applyToken, mintJwt } from '../../src/transport/auth.js';

describe('event filter', () => {
  it('matches globs against raw or normalized type', () => {
    const filter = createEventFilter({ eventGlobs: ['order.*'] });
    expect(filter('message', 'order.created', '{}')).toBe(true);
    expect(filter('order.updated', 'order.updated', '')).toBe(true);
    expect(filter('ping', 'ping', '')).toBe(false);
    expect(globToRegExp('a?c').test('abc')).toBe(true);
    expect(globToRegExp('a.c').test('abc')).toBe(false);
  });

  it('greps data and rejects a bad regex as a usage error', () => {
    const filter = createEventFilter({ grep: 'store-\\d+' });
    expect(filter('message', 'message', 'from store-12')).toBe(true);
    expect(filter('message', 'message', 'from store-x')).toBe(false);
    expect(() => createEventFilter({ grep: '(' })).toThrow(UsageError);
  });
});

describe('tokens', () => {
  it('mints an HS256 JWT with role, sub, claims and expiry', async () => {
    const token = await mintJwt({ secret: 's3cret', role: 'admin', sub: '7', claims: { salon_id: 3 }, ttlMs: 60_000 });
    const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode('s3cret'));
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload).toMatchObject({ role: 'admin', sub: '7', salon_id: 3 });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(60);
  });

  it('keeps credentials on the original origin', () => {
    const same = applyToken(new URL('http://127.0.0.1:1/a'), {}, { token: 't' }, 'http://127.0.0.1:1');
    expect(same.headers['authorization']).toBe('Bearer t');
    const other = applyToken(new URL('http://localhost:1/a'), {}, { token: 't' }, 'http://127.0.0.1:1');
    expect(other.headers['authorization']).toBeUndefined();
    const query = applyToken(new URL('http://127.0.0.1:1/a'), {}, { token: 't', queryName: 'token' }, 'http://127.0.0.1:1');
    expect(query.url.searchParams.get('token')).toBe('t');
    expect(query.headers['authorization']).toBeUndefined();
  });
});
