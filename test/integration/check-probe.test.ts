/**
 * check's probe (src/check/probe.ts) against a small server: a resume sends Last-Event-ID as its
 * UTF-8 bytes (as bench and listen do), and a refusal's body is kept for the evidence.
 */
import { Agent } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { openProbe } from '../../src/check/probe.js';
import { startSseServer } from '../helpers/sse-server.js';

const agent = (): Agent => {
  const dispatcher = new Agent();
  onTestFinished(() => dispatcher.close());
  return dispatcher;
};

describe('check probe', () => {
  it('resumes with a non-Latin-1 Last-Event-ID sent as its UTF-8 bytes', async () => {
    const seen: (string | undefined)[] = [];
    const server = await startSseServer((req, res) => {
      const raw = req.headers['last-event-id'];
      seen.push(typeof raw === 'string' ? Buffer.from(raw, 'latin1').toString('utf8') : undefined);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('data: x\n\n');
    });
    onTestFinished(() => server.close());
    const probe = await openProbe({ url: new URL(server.url), headers: {}, lastEventId: '€-日本-é', dispatcher: agent(), signal: new AbortController().signal });
    await probe.waitFor(() => probe.ended() !== undefined, 2_000);
    expect(probe.isStream).toBe(true);
    expect(seen).toEqual(['€-日本-é']);
  });

  it('keeps the body of a refusal to quote it', async () => {
    const server = await startSseServer((_req, res) => {
      res.writeHead(409, { 'content-type': 'application/json' });
      res.end('{"code":"stream_limit"}');
    });
    onTestFinished(() => server.close());
    const probe = await openProbe({ url: new URL(server.url), headers: {}, dispatcher: agent(), signal: new AbortController().signal });
    expect([probe.status, probe.isStream, probe.body]).toEqual([409, false, '{"code":"stream_limit"}']);
    expect(probe.ended()?.kind).toBe('clean');
  });
});
