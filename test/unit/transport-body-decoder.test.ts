/**
 * The streaming Content-Encoding decoder (transport/body-decoder.ts): each coding decodes fed in
 * one piece, in 1-byte chunks and split at every offset; output comes before the input ends (a
 * server flushing per event is read per event); a truncated stream ends without an error; raw
 * deflate is accepted; a bomb and corrupt data end with a ProtocolError (exit 5).
 */
import { brotliCompressSync, constants, createGzip, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ExitCode, ProtocolError } from '../../src/core/errors.js';
import { contentCodingOf, createBodyDecoder, type ContentCoding } from '../../src/transport/body-decoder.js';

const TEXT = `${Array.from({ length: 50 }, (_v, i) => `id: ${i}\ndata: {"n":${i},"s":"héllo 世界"}\n\n`).join('')}`;
const ENCODED: Record<Exclude<ContentCoding, 'identity'>, Buffer> = {
  gzip: gzipSync(TEXT),
  deflate: deflateSync(TEXT),
  br: brotliCompressSync(TEXT),
};

/** Feeds `chunks` and resolves with the decoded text, or rejects with the decoder's error. */
function decode(coding: ContentCoding, chunks: readonly Buffer[], maxBytes = 1 << 20): Promise<string> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const decoder = createBodyDecoder(coding, { maxBytes, onData: (c) => out.push(c), onEnd: () => resolve(Buffer.concat(out).toString('utf8')), onError: reject });
    for (const chunk of chunks) decoder.write(chunk);
    decoder.end();
  });
}

const bytesOf = (buf: Buffer): Buffer[] => [...buf].map((b) => Buffer.from([b]));

describe('body decoder', () => {
  for (const [coding, encoded] of Object.entries(ENCODED) as [Exclude<ContentCoding, 'identity'>, Buffer][]) {
    it(`decodes ${coding} whole, in 1-byte chunks and split at every offset`, async () => {
      expect(await decode(coding, [encoded])).toBe(TEXT);
      expect(await decode(coding, bytesOf(encoded))).toBe(TEXT);
      for (let at = 1; at < encoded.length; at += 7) expect(await decode(coding, [encoded.subarray(0, at), encoded.subarray(at)])).toBe(TEXT);
    });
  }

  it('passes identity through synchronously', () => {
    const seen: string[] = [];
    const decoder = createBodyDecoder('identity', { maxBytes: 10, onData: (c) => seen.push(c.toString()) });
    decoder.write(Buffer.from('data: a\n\n'));
    expect(seen).toEqual(['data: a\n\n']);
  });

  it('delivers a flushed event before the stream ends (Z_SYNC_FLUSH per event)', async () => {
    const gzip = createGzip();
    const compressed: Buffer[] = [];
    gzip.on('data', (c: Buffer) => compressed.push(c));
    gzip.write('data: first\n\n');
    await new Promise<void>((resolve) => gzip.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    const seen: string[] = [];
    const decoder = createBodyDecoder('gzip', { maxBytes: 1 << 20, onData: (c) => seen.push(c.toString()) });
    decoder.write(Buffer.concat(compressed));
    await expect.poll(() => seen.join('')).toBe('data: first\n\n');
    decoder.destroy();
    gzip.destroy();
  });

  it('ends a truncated stream (the server closed mid-block) with what it had, no error', async () => {
    const encoded = gzipSync(TEXT);
    const text = await decode('gzip', [encoded.subarray(0, encoded.length - 20)]);
    expect(TEXT.startsWith(text)).toBe(true);
    expect(text.length).toBeGreaterThan(TEXT.length / 2);
  });

  it('accepts raw deflate where zlib-wrapped deflate was announced', async () => {
    expect(await decode('deflate', [deflateRawSync(TEXT)])).toBe(TEXT);
  });

  it('ends a decompression bomb with a ProtocolError (exit 5)', async () => {
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x0a));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const error = await decode('gzip', [bomb], 1024 * 1024).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe('SSEKIT_DECOMPRESSION_BOMB');
    expect((error as ProtocolError).exitCode).toBe(ExitCode.protocol);
  });

  it('ends corrupt data with a ProtocolError', async () => {
    const error = await decode('gzip', [Buffer.from('this is not gzip at all')]).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe('SSEKIT_BAD_ENCODING');
  });

  it('names the coding of a Content-Encoding header, and refuses one it did not offer', () => {
    expect([undefined, '', 'identity', 'GZIP', 'x-gzip', 'deflate', 'br'].map((v) => contentCodingOf(v))).toEqual(['identity', 'identity', 'identity', 'gzip', 'gzip', 'deflate', 'br']);
    expect(() => contentCodingOf('zstd')).toThrow(ProtocolError);
    expect(() => contentCodingOf('gzip, br')).toThrow(/did not offer/);
  });
});
