import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import { encodeComment, encodeFrame, encodeJsonEvent, encodeStream, generateFixture } from '../../src/serve/encode.js';

function parse(text: string): { events: EventSourceMessage[]; comments: string[]; retries: number[] } {
  const events: EventSourceMessage[] = [];
  const comments: string[] = [];
  const retries: number[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e), onComment: (c) => comments.push(c), onRetry: (r) => retries.push(r) });
  parser.feed(text);
  return { events, comments, retries };
}

describe('encodeFrame', () => {
  it('writes id, event and data in order, ended by a blank line', () => {
    expect(encodeFrame({ id: 7, event: 'order.created', data: '{"a":1}' })).toBe('id: 7\nevent: order.created\ndata: {"a":1}\n\n');
  });

  it('splits multi-line data on LF, CRLF and CR into several data lines', () => {
    const text = encodeFrame({ data: 'one\ntwo\r\nthree\rfour' });
    expect(text).toBe('data: one\ndata: two\ndata: three\ndata: four\n\n');
    expect(parse(text).events[0]?.data).toBe('one\ntwo\nthree\nfour');
  });

  it('keeps empty lines and a leading space of the value', () => {
    const data = '\n lead\n';
    const text = encodeFrame({ data });
    expect(text).toBe('data:\ndata:  lead\ndata:\n\n');
    expect(parse(text).events[0]?.data).toBe(data);
  });

  it('writes seed 000 frames with no event field (type inside the JSON)', () => {
    const text = encodeFrame({ data: JSON.stringify({ event: 'order.created', data: { order_id: 1 } }) });
    expect(text).not.toContain('event:');
    expect(parse(text).events[0]?.event).toBeUndefined();
  });

  it('writes retry and comments, and an empty frame as nothing', () => {
    expect(encodeFrame({ retryMs: 3000 })).toBe('retry: 3000\n\n');
    expect(encodeFrame({})).toBe('');
    expect(encodeComment('keepalive')).toBe(':keepalive\n\n');
    expect(encodeComment(' ping')).toBe(': ping\n\n');
    const parsed = parse(encodeComment('keepalive') + encodeComment(' ping') + encodeFrame({ retryMs: 3000 }));
    expect(parsed.comments).toEqual(['keepalive', 'ping']);
    expect(parsed.retries).toEqual([3000]);
  });

  it('refuses values that would break framing', () => {
    expect(() => encodeFrame({ event: 'a\nb' })).toThrow(RangeError);
    expect(() => encodeFrame({ id: 'a\rb' })).toThrow(RangeError);
    expect(() => encodeFrame({ id: 'a\0b' })).toThrow(RangeError);
    expect(() => encodeFrame({ retryMs: -1 })).toThrow(RangeError);
    expect(() => encodeFrame({ retryMs: 1.5 })).toThrow(RangeError);
  });

  it('encodes JSON events with multibyte text intact', () => {
    const text = encodeJsonEvent('notification', { title: 'заказ 주문 🚚' }, 'n1');
    const event = parse(text).events[0];
    expect(event).toMatchObject({ event: 'notification', id: 'n1' });
    expect(JSON.parse(event?.data ?? '')).toEqual({ title: 'заказ 주문 🚚' });
  });
});

describe('generateFixture', () => {
  it('is reproducible for a seed and parses to exactly its events', () => {
    const a = generateFixture({ seed: 42, frames: 200 });
    expect(generateFixture({ seed: 42, frames: 200 }).text).toBe(a.text);
    expect(generateFixture({ seed: 43, frames: 200 }).text).not.toBe(a.text);
    const parsed = parse(a.text).events;
    expect(parsed.map((e) => ({ type: e.event ?? 'message', data: e.data }))).toEqual(a.events.map((e) => ({ type: e.type, data: e.data })));
  });

  it('gives the same events with CRLF and CR line endings, whole or byte by byte', () => {
    for (const lineEnding of ['\r\n', '\r'] as const) {
      const fixture = generateFixture({ seed: 7, frames: 80, lineEnding });
      const events: EventSourceMessage[] = [];
      const parser = createParser({ onEvent: (e) => events.push(e) });
      for (const char of fixture.text) parser.feed(char);
      // A trailing CR may be the first half of CRLF: the parser waits, so end with a LF.
      parser.feed('\n');
      expect(events.map((e) => e.data)).toEqual(fixture.events.map((e) => e.data));
    }
  });

  it('encodeStream concatenates frames', () => {
    expect(encodeStream([{ data: 'a' }, { comment: 'x' }, { data: 'b' }])).toBe('data: a\n\n:x\n\ndata: b\n\n');
  });
});
