/** `describeServerBody`: what a server said, quoted and safe for a terminal. */
import { describe, expect, it } from 'vitest';
import { describeServerBody } from '../../src/core/server-text.js';

describe('describeServerBody', () => {
  it.each([
    ['{"code":"stream_limit"}', 'code: "stream_limit"'],
    ['{"detail":"Not authenticated"}', 'detail: "Not authenticated"'],
    ['{"message":"slow down","error":"rate"}', 'message: "slow down", error: "rate"'],
    ['{"detail":[{"loc":["body","boxes_count"],"msg":"field required","type":"value_error.missing"}]}', 'detail: "body.boxes_count: field required"'],
    ['  busy, try later \n', '"busy, try later"'],
    ['', undefined],
  ])('%s → %s', (body, expected) => expect(describeServerBody(body)).toBe(expected));

  it('escapes control characters in plain text and in JSON strings', () => {
    for (const body of ['nope \u001b]52;c;eA==\u0007', JSON.stringify({ error: 'nope \u001b[2J' }), 'a\u009bb']) {
      const text = describeServerBody(body) ?? '';
      expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    }
  });

  it('clips a long body', () => {
    expect((describeServerBody('x'.repeat(5000)) ?? '').length).toBeLessThan(220);
  });
});
