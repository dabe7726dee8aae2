/**
 * How check words a response that is not an open stream (src/check/evidence.ts): the status, then
 * what the server said, quoted and escaped as bench and listen quote it, a JSON body by its
 * code/detail/message/error and any other body by its start.
 */
import { describe, expect, it } from 'vitest';
import { describeResponse } from '../../src/check/evidence.js';
import type { Probe } from '../../src/check/probe.js';

const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/;

function refused(status: number, body: string, contentType = 'application/json'): Probe {
  return { status, isStream: false, headers: { 'content-type': contentType }, body } as unknown as Probe;
}

describe('check evidence for a refused request', () => {
  it('quotes a JSON body by its most telling field', () => {
    expect(describeResponse(refused(403, '{"detail":"Not authenticated"}'))).toBe('403 Forbidden ("Not authenticated")');
    expect(describeResponse(refused(409, '{"code":"stream_limit","message":"at most 5"}'))).toBe('409 Conflict ("stream_limit")');
    expect(describeResponse(refused(403, '{"error":"Forbidden","detail":"Not authenticated"}'))).toBe('403 Forbidden ("Not authenticated")');
  });

  it('quotes the start of a plain-text body, whitespace folded, and says nothing for an empty one', () => {
    expect(describeResponse(refused(401, 'token\n  expired\r\n', 'text/plain'))).toBe('401 Unauthorized ("token expired")');
    expect(describeResponse(refused(404, '', 'text/plain'))).toBe('404 Not Found');
    expect(describeResponse(refused(404, '   \n', 'text/plain'))).toBe('404 Not Found');
  });

  it('cuts a long body and escapes every control character, C1 and line separator', () => {
    const said = describeResponse(refused(500, `\u001b]52;c;AAAA\u0007\u009b2J\u2028${'x'.repeat(500)}`, 'text/plain'));
    expect(said).not.toMatch(RAW_CONTROL);
    expect(said.startsWith('500 Internal Server Error ("')).toBe(true);
    expect(said.length).toBeLessThan(300);
  });

  it('names a 200 that is not an event stream by its Content-Type', () => {
    expect(describeResponse(refused(200, '<html>', 'text/html'))).toBe('200 but Content-Type "text/html"');
  });
});
