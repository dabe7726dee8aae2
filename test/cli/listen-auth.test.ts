/**
 * Credentials of `ssekit listen`: headers, bearer token from flag / env / file, the token as a
 * query parameter, JWTs minted with a secret or a key and verified here with jose, TLS trust
 * (--cacert, --insecure), redirects that never carry credentials to another origin, and tokens
 * that never show up in the output, even with --debug on an error.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportPKCS8, exportSPKI, generateKeyPair, importSPKI, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { redirect, startSseServer, type SseServer } from '../helpers/sse-server.js';

const jsonLines = (stdout: string): Record<string, unknown>[] =>
  stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ssekit-auth-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A server that sends one event and holds, so `--max-events 1` ends the run with exit 0. */
const oneEvent = () => startSseServer({ body: 'data: hello\n\n', then: 'hold' });
const bearer = (server: SseServer, i = 0): string | undefined => server.requests[i]?.headers.authorization;
const queryOf = (server: SseServer, i = 0): URLSearchParams => new URL(server.requests[i]?.url ?? '/', 'http://x').searchParams;

describe('listen request headers', () => {
  it('sends Accept: text/event-stream, Cache-Control: no-cache and every -H header', async () => {
    const server = await oneEvent();
    const result = await runCli(['listen', server.url, '--json', '--max-events', '1', '-H', 'X-Tenant: acme', '--header', 'X-Trace-Id:  t-1 ']);
    expect(result.exitCode, result.stderr).toBe(0);
    const headers = server.requests[0]?.headers ?? {};
    expect(headers.accept).toBe('text/event-stream');
    expect(headers['cache-control']).toBe('no-cache');
    expect(headers['x-tenant']).toBe('acme');
    expect(headers['x-trace-id']).toBe('t-1');
    expect(headers.authorization).toBeUndefined();
  });

  it('rejects a malformed -H with a usage error (exit 2)', async () => {
    const result = await runCli(['listen', 'http://127.0.0.1:9/events', '-H', 'no colon here']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^ssekit: /m);
  });
});

describe('listen bearer token', () => {
  it('sends --token as Authorization: Bearer', async () => {
    const server = await oneEvent();
    const result = await runCli(['listen', server.url, '--json', '--max-events', '1', '--token', 'tok-flag-123']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(bearer(server)).toBe('Bearer tok-flag-123');
  });

  it('reads the token from SSEKIT_TOKEN', async () => {
    const server = await oneEvent();
    const result = await runCli(['listen', server.url, '--json', '--max-events', '1'], { env: { SSEKIT_TOKEN: 'tok-env-456' } });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(bearer(server)).toBe('Bearer tok-env-456');
  });

  it('prefers --token over SSEKIT_TOKEN', async () => {
    const server = await oneEvent();
    const result = await runCli(['listen', server.url, '--json', '--max-events', '1', '--token', 'from-flag'], { env: { SSEKIT_TOKEN: 'from-env' } });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(bearer(server)).toBe('Bearer from-flag');
  });

  it('reads the token from --token-file, without its trailing newline', async () => {
    const server = await oneEvent();
    const file = join(dir, 'token.txt');
    writeFileSync(file, 'tok-file-789\n');
    const result = await runCli(['listen', server.url, '--json', '--max-events', '1', '--token-file', file]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(bearer(server)).toBe('Bearer tok-file-789');
  });

  it('fails with a usage error (exit 2) when --token-file does not exist', async () => {
    const result = await runCli(['listen', 'http://127.0.0.1:9/events', '--token-file', join(dir, 'missing.txt')]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^ssekit: .*token-file/m);
  });

  it('sends the token as a query parameter with --token-query, keeping the other parameters and no Authorization', async () => {
    const server = await oneEvent();
    const url = `${server.url}?channel=deals&version=2`;
    const result = await runCli(['listen', url, '--json', '--max-events', '1', '--token', 'tok-q', '--token-query', 'access_token']);
    expect(result.exitCode, result.stderr).toBe(0);
    const query = queryOf(server);
    expect(query.get('access_token')).toBe('tok-q');
    expect(query.get('channel')).toBe('deals');
    expect(query.get('version')).toBe('2');
    expect(bearer(server)).toBeUndefined();
  });

  it('sends the token again on every reconnect', async () => {
    const server = await startSseServer([{ body: 'retry: 1\ndata: a\n\n' }, { body: 'data: b\n\n', then: 'hold' }]);
    const result = await runCli(['listen', server.url, '--json', '--max-events', '2', '--token', 'again']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect([bearer(server, 0), bearer(server, 1)]).toEqual(['Bearer again', 'Bearer again']);
  });
});

describe('listen minted JWTs', () => {
  it('mints an HS256 JWT from --jwt-secret with --role, --sub, --claims and --ttl', async () => {
    const server = await oneEvent();
    const secret = 'test-secret-for-hs256-minting';
    const result = await runCli(['listen', server.url, '--json', '--max-events', '1', '--jwt-secret', secret, '--role', 'admin', '--sub', 'user-1', '--claims', '{"salon_id":7,"channels":["deals"]}', '--ttl', '5m']);
    expect(result.exitCode, result.stderr).toBe(0);
    const token = /^Bearer (.+)$/.exec(bearer(server) ?? '')?.[1] ?? '';
    const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(secret), { algorithms: ['HS256'] });
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload).toMatchObject({ role: 'admin', sub: 'user-1', salon_id: 7, channels: ['deals'] });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(300);
  });

  it('mints an ES256 JWT from a --jwt-key PEM and sends it as the --token-query parameter', async () => {
    const server = await oneEvent();
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const keyFile = join(dir, 'es256.pem');
    writeFileSync(keyFile, await exportPKCS8(privateKey));
    const result = await runCli(['listen', server.url, '--json', '--max-events', '1', '--jwt-key', keyFile, '--role', 'store', '--sub', '42', '--token-query', 'token']);
    expect(result.exitCode, result.stderr).toBe(0);
    const token = queryOf(server).get('token') ?? '';
    const verifyKey = await importSPKI(await exportSPKI(publicKey), 'ES256');
    const { payload } = await jwtVerify(token, verifyKey, { algorithms: ['ES256'] });
    expect(payload).toMatchObject({ role: 'store', sub: '42' });
    expect(bearer(server)).toBeUndefined();
  });

  it('rejects --claims that are not a JSON object (exit 2)', async () => {
    const result = await runCli(['listen', 'http://127.0.0.1:9/events', '--jwt-secret', 's', '--claims', 'not json']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^ssekit: .*claims/m);
  });
});

describe('listen never prints credentials', () => {
  const secretToken = 'sup3r-s3cret-t0ken-value';
  const expectNoSecret = (result: { stdout: string; stderr: string }, ...secrets: string[]): void => {
    for (const secret of secrets) {
      expect(result.stdout).not.toContain(secret);
      expect(result.stderr).not.toContain(secret);
    }
  };

  it('keeps a bearer token out of a 401 error, even with --debug', async () => {
    const server = await startSseServer({ status: 401, headers: { 'content-type': 'application/json' }, body: '{"code":"invalid_token"}' });
    const result = await runCli(['--debug', 'listen', server.url, '--json', '--token', secretToken]);
    expect(result.exitCode).toBe(4);
    expect(bearer(server)).toBe(`Bearer ${secretToken}`);
    expectNoSecret(result, secretToken);
  });

  it('keeps a --token-query token out of the URL in an error, even with --debug', async () => {
    const server = await startSseServer({ status: 403, headers: { 'content-type': 'text/plain' }, body: 'nope' });
    const result = await runCli(['listen', server.url, '--json', '--token', secretToken, '--token-query', 'st', '--debug']);
    expect(result.exitCode).toBe(4);
    expect(queryOf(server).get('st')).toBe(secretToken);
    expectNoSecret(result, secretToken);
  });

  it('keeps a token out of a connection-refused error with --debug', async () => {
    const result = await runCli(['listen', 'http://127.0.0.1:1/events', '--json', '--token', secretToken, '--token-query', 'token', '--max-retries', '0', '--debug']);
    expect(result.exitCode).toBe(3);
    expectNoSecret(result, secretToken);
  });

  it('keeps a minted JWT and its secret out of the output when the server echoes the token back', async () => {
    let minted = '';
    const server = await startSseServer((req, res) => {
      minted = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: minted, error: `bad token ${minted}` }));
    });
    const secret = 'jwt-signing-secret-xyz';
    const result = await runCli(['listen', server.url, '--json', '--jwt-secret', secret, '--sub', 'u', '--debug']);
    expect(result.exitCode).toBe(4);
    expect(minted).toMatch(/^eyJ/);
    expectNoSecret(result, minted, secret);
  });

  it('keeps a token given by -H Authorization out of an error', async () => {
    const server = await startSseServer({ status: 401, headers: { 'content-type': 'text/plain' } });
    const result = await runCli(['listen', server.url, '--json', '-H', `Authorization: Bearer ${secretToken}`, '--debug']);
    expect(result.exitCode).toBe(4);
    expectNoSecret(result, secretToken);
  });
});

describe('listen redirects', () => {
  it('follows a redirect to another origin without Authorization or Cookie', async () => {
    const target = await startSseServer({ body: 'data: moved\n\n', then: 'hold' });
    const origin = await startSseServer(redirect(target.url, 307));
    const result = await runCli(['listen', origin.url, '--json', '--max-events', '1', '--token', 'cross-origin-secret', '-H', 'Cookie: session=abc', '-H', 'X-Plain: kept']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(jsonLines(result.stdout)[0]?.['data']).toBe('moved');
    expect(origin.requests[0]?.headers.authorization).toBe('Bearer cross-origin-secret');
    expect(origin.requests[0]?.headers.cookie).toBe('session=abc');
    const followed = target.requests[0]?.headers ?? {};
    expect(followed.authorization).toBeUndefined();
    expect(followed.cookie).toBeUndefined();
    expect(followed.accept).toBe('text/event-stream');
  });

  it('drops every header redaction treats as a secret (X-Api-Key and friends) on a cross-origin redirect', async () => {
    const target = await startSseServer({ body: 'data: moved\n\n', then: 'hold' });
    const origin = await startSseServer(redirect(target.url, 302));
    const secrets = ['X-Api-Key: k-1', 'X-Auth-Token: t-1', 'Proxy-Authorization: Basic eA==', 'X-Session-Id: s-1'];
    const result = await runCli(['listen', origin.url, '--json', '--max-events', '1', ...secrets.flatMap((h) => ['-H', h]), '-H', 'X-Tenant: acme']);
    expect(result.exitCode, result.stderr).toBe(0);
    const [sent, followed] = [origin.requests[0]?.headers ?? {}, target.requests[0]?.headers ?? {}];
    expect([sent['x-api-key'], sent['x-auth-token'], sent['x-session-id']]).toEqual(['k-1', 't-1', 's-1']);
    for (const name of ['x-api-key', 'x-auth-token', 'proxy-authorization', 'x-session-id']) expect(followed, name).not.toHaveProperty(name);
    expect(followed['x-tenant']).toBe('acme');
  });

  it('does not carry a --token-query parameter to another origin', async () => {
    const target = await startSseServer({ body: 'data: moved\n\n', then: 'hold' });
    const origin = await startSseServer(redirect(`${target.url}?channel=x`, 302));
    const result = await runCli(['listen', origin.url, '--json', '--max-events', '1', '--token', 'q-secret', '--token-query', 'token']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(queryOf(origin).get('token')).toBe('q-secret');
    expect(queryOf(target).get('token')).toBeNull();
    expect(target.requests[0]?.url).not.toContain('q-secret');
  });

  it('keeps the credentials on a same-origin redirect', async () => {
    const server = await startSseServer([redirect('/stream', 301), { body: 'data: here\n\n', then: 'hold' }]);
    const result = await runCli(['listen', server.url, '--json', '--max-events', '1', '--token', 'same-origin']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(server.requests.map((r) => r.url.split('?')[0])).toEqual(['/events', '/stream']);
    expect(bearer(server, 1)).toBe('Bearer same-origin');
  });

  it('follows up to 5 redirects', async () => {
    const hops = [1, 2, 3, 4, 5].map((n) => redirect(`/hop${n}`, 302));
    const server = await startSseServer([...hops, { body: 'data: arrived\n\n', then: 'hold' }]);
    const result = await runCli(['listen', server.url, '--json', '--max-events', '1']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(server.requests).toHaveLength(6);
  });

  it('stops after more than 5 redirects with one clear line', async () => {
    const server = await startSseServer((req, res) => {
      const n = Number(/\d+/.exec(req.url ?? '')?.[0] ?? 0);
      res.writeHead(302, { location: `/loop${n + 1}` });
      res.end();
    });
    const result = await runCli(['listen', server.url, '--json', '--retry-initial', '10ms']);
    expect([4, 5]).toContain(result.exitCode);
    expect(server.requests.length).toBeLessThanOrEqual(7);
    expect(result.stderr).toMatch(/^ssekit: .*redirect/im);
  });
});

describe('listen TLS', () => {
  let tlsDir = '';
  let certFile = '';
  let key = '';
  let cert = '';
  let hasOpenssl = true;
  beforeAll(() => {
    tlsDir = mkdtempSync(join(tmpdir(), 'ssekit-tls-'));
    certFile = join(tlsDir, 'cert.pem');
    const keyFile = join(tlsDir, 'key.pem');
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
      key = execFileSync('cat', [keyFile]).toString();
      cert = execFileSync('cat', [certFile]).toString();
    } catch {
      hasOpenssl = false;
    }
  });
  afterAll(() => rmSync(tlsDir, { recursive: true, force: true }));

  it('refuses a certificate it cannot verify (exit 3) and suggests --cacert', async ({ skip }) => {
    if (!hasOpenssl) skip('openssl not available to make a test certificate');
    const server = await startSseServer({ body: 'data: tls\n\n', then: 'hold' }, { tls: { key, cert } });
    const result = await runCli(['listen', server.url, '--json', '--max-events', '1', '--max-retries', '1', '--retry-initial', '10ms']);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toMatch(/cacert/);
    expect(result.stdout).toBe('');
  });

  it('trusts the server with --cacert', async ({ skip }) => {
    if (!hasOpenssl) skip('openssl not available to make a test certificate');
    const server = await startSseServer({ body: 'data: tls\n\n', then: 'hold' }, { tls: { key, cert } });
    const result = await runCli(['listen', server.url, '--json', '--max-events', '1', '--cacert', certFile]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(jsonLines(result.stdout)[0]?.['data']).toBe('tls');
  });

  it('skips verification only with --insecure', async ({ skip }) => {
    if (!hasOpenssl) skip('openssl not available to make a test certificate');
    const server = await startSseServer({ body: 'data: tls\n\n', then: 'hold' }, { tls: { key, cert } });
    const result = await runCli(['listen', server.url, '--json', '--max-events', '1', '--insecure']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(jsonLines(result.stdout)[0]?.['data']).toBe('tls');
  });
});
