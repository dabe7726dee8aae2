/**
 * Compressed streams through `ssekit listen` (issue 13: a gzip stream gave 0 events and exit 0):
 * listen offers `gzip, deflate, br`, decodes each incrementally (an event flushed by the server
 * shows while the connection stays open), `--max-event-size` applies to decoded bytes so a
 * decompression bomb ends with exit 5, and a coding it did not offer is a protocol error.
 */
import { brotliCompressSync, constants, createBrotliCompress, createDeflate, createGzip, gzipSync } from 'node:zlib';
import type { Transform } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { startSseServer, type SseHandler } from '../helpers/sse-server.js';

const jsonLines = (stdout: string): Record<string, unknown>[] =>
  stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const COMPRESSORS: Record<string, () => Transform> = {
  gzip: () => createGzip(),
  deflate: () => createDeflate(),
  br: () => createBrotliCompress(),
};

/** Writes two events through a compressor, flushing after each, and holds the stream open. */
function compressedStream(coding: string): SseHandler {
  return async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': coding });
    const compressor = COMPRESSORS[coding]?.() as Transform & { flush(kind: number, cb: () => void): void };
    compressor.pipe(res);
    for (const event of ['id: 1\ndata: {"n":1,"s":"héllo"}\n\n', 'id: 2\ndata: second\n\n']) {
      compressor.write(event);
      await new Promise<void>((resolve) => compressor.flush(coding === 'br' ? constants.BROTLI_OPERATION_FLUSH : constants.Z_SYNC_FLUSH, resolve));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Held open: the events must come out of the decoder without the stream ending.
  };
}

describe('listen decodes compressed streams', () => {
  for (const coding of Object.keys(COMPRESSORS)) {
    it(`reads a ${coding} stream event by event while it stays open`, async () => {
      const server = await startSseServer(compressedStream(coding));
      const result = await runCli(['listen', server.url, '--json', '--max-events', '2']);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(jsonLines(result.stdout).map((e) => [e['id'], e['data']])).toEqual([
        ['1', '{"n":1,"s":"héllo"}'],
        ['2', 'second'],
      ]);
      expect(server.requests[0]?.headers['accept-encoding']).toBe('gzip, deflate, br');
    });
  }

  it('decodes a compressed error body to quote it', async () => {
    const server = await startSseServer({ status: 403, headers: { 'content-type': 'application/json', 'content-encoding': 'br' }, body: brotliCompressSync('{"detail":"Not authenticated"}') });
    const result = await runCli(['listen', server.url, '--json']);
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toMatch(/^ssekit: server answered 403 Forbidden \("Not authenticated"\)/m);
  });

  it('ends a decompression bomb with exit 5 (decoded bytes count for --max-event-size)', async () => {
    // 200 MB of one line without a newline, about 200 KB on the wire.
    const bomb = gzipSync(Buffer.concat([Buffer.from('data: '), Buffer.alloc(200 * 1024 * 1024, 0x61)]), { level: 9 });
    const server = await startSseServer({ headers: { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' }, body: bomb });
    const result = await runCli(['listen', server.url, '--json']);
    expect(result.exitCode, result.stderr).toBe(5);
    expect(result.stderr).toMatch(/^ssekit: a line is over the 1048576-byte limit/m);
    expect(result.stdout).toBe('');
    expect(server.requests).toHaveLength(1);
  });

  it('stops on a coding it did not offer (exit 5), naming it escaped', async () => {
    const server = await startSseServer({ headers: { 'content-type': 'text/event-stream', 'content-encoding': 'zstd\u009b2J' }, body: 'data: x\n\n' });
    const result = await runCli(['listen', server.url, '--json']);
    expect(result.exitCode, result.stderr).toBe(5);
    expect(result.stderr).toMatch(/^ssekit: server sent Content-Encoding "zstd.*\\u009b2J", which ssekit did not offer/m);
    expect(result.stderr).not.toContain('\u009b');
  });
});
