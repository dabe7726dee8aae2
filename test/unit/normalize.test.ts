/**
 * Normalized event types (CONTRACTS §2, seed 001): when the `event:` field is absent (`message`)
 * and the data is a JSON object with a string `event` or `type`, that value is the type.
 */
import { describe, expect, it } from 'vitest';
import { normalizeType } from '../../src/stream/normalize.js';

describe('normalizeType', () => {
  it('takes the type from a JSON "event" field of a message event', () => {
    expect(normalizeType('message', '{"event":"order.created","data":{"order_id":1}}')).toBe('order.created');
  });

  it('takes the type from a JSON "type" field of a message event', () => {
    expect(normalizeType('message', '{"type":"deal.updated","id":7}')).toBe('deal.updated');
  });

  it('accepts JSON with surrounding whitespace and nested data', () => {
    expect(normalizeType('message', '  {\n "event" : "task.created", "data": {"event": "inner"}}\n')).toBe('task.created');
  });

  it('uses one of "event" or "type" when both are present', () => {
    // The contract says "event or type" without an order; seed 001 lists event first.
    expect(['a', 'b']).toContain(normalizeType('message', '{"event":"a","type":"b"}'));
  });

  it('falls back to "type" when "event" is not a string', () => {
    expect(normalizeType('message', '{"event":5,"type":"payment.overdue"}')).toBe('payment.overdue');
  });

  it('keeps an explicit event: field even when the JSON names another type', () => {
    expect(normalizeType('order_updated', '{"event":"something.else"}')).toBe('order_updated');
    expect(normalizeType('ping', '{"type":"pong"}')).toBe('ping');
  });

  it.each([
    ['not JSON', 'hello'],
    ['empty data', ''],
    ['invalid JSON that looks like an object', '{"event":'],
    ['a JSON array', '[{"event":"x"}]'],
    ['a JSON string', '"order.created"'],
    ['a JSON number', '42'],
    ['JSON null', 'null'],
    ['an object without event or type', '{"order_id":1}'],
    ['non-string event and type', '{"event":{"name":"x"},"type":["y"]}'],
    ['a null event', '{"event":null}'],
  ])('leaves message as message for %s', (_label, data) => {
    expect(normalizeType('message', data)).toBe('message');
  });

  it('keeps a non-message type when the data is not JSON', () => {
    expect(normalizeType('heartbeat', '')).toBe('heartbeat');
  });
});
