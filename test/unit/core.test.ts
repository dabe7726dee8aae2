import { describe, expect, it } from 'vitest';
import { formatDuration, parseByteSize, parseDuration } from '../../src/core/duration.js';
import { ExitCode, HttpStatusError, UsageError } from '../../src/core/errors.js';
import { escapeControl } from '../../src/core/escape.js';
import { redactHeaders, redactText, redactUrl } from '../../src/core/redact.js';

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['2s', 2000],
    ['1m', 60_000],
    ['1.5s', 1500],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['0', 0],
  ])('parses %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it('refuses a bare number other than 0: the unit is always written', () => {
    expect(() => parseDuration('2', '--watch')).toThrow(UsageError);
    expect(() => parseDuration('2', '--watch')).toThrow('--watch 2: 2 what? write 2s (or 2ms)');
    expect(() => parseDuration('1.5', '--max-time')).toThrow(/1\.5 what\?/);
  });

  it('rejects garbage with a usage error naming the flag', () => {
    expect(() => parseDuration('soon', '--max-time')).toThrow(UsageError);
    expect(() => parseDuration('5 parsecs', '--max-time')).toThrow(/--max-time: '5 parsecs' is not a duration/);
    expect(() => parseDuration('')).toThrow(UsageError);
  });

  it('formats for people', () => {
    expect(formatDuration(12)).toBe('12 ms');
    expect(formatDuration(1800)).toBe('1.8 s');
    expect(formatDuration(125_000)).toBe('2 m 5 s');
  });

  it('parses byte sizes', () => {
    expect(parseByteSize('1MiB')).toBe(1_048_576);
    expect(parseByteSize('64KiB')).toBe(65_536);
    expect(parseByteSize('100')).toBe(100);
    expect(() => parseByteSize('lots')).toThrow(UsageError);
  });
});

describe('redaction', () => {
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwicm9sZSI6ImFkbWluIn0.c2lnbmF0dXJlLWJ5dGVz';

  it('hides token query parameters, including a custom name', () => {
    expect(redactUrl('http://h/x?token=abc&a=1')).toBe('http://h/x?token=***&a=1');
    expect(redactUrl('http://h/x?t=abc', ['t'])).toBe('http://h/x?t=***');
    expect(redactUrl('http://user:pw@h/x')).toBe('http://user:***@h/x');
  });

  it('hides bearer tokens, JWTs and secret headers in free text', () => {
    const text = redactText(`Authorization: Bearer ${jwt} and ${jwt} and ?token=${jwt}&x=1`);
    expect(text).not.toContain('c2lnbmF0dXJl');
    expect(text).not.toContain('eyJzdWIi');
    expect(redactText('cookie: session=1')).toBe('cookie: ***');
    expect(redactText('plain text stays')).toBe('plain text stays');
  });

  it('hides exact secrets it is given', () => {
    expect(redactText('the secret is hunter22', ['hunter22'])).toBe('the secret is ***');
  });

  it('hides secret header values', () => {
    expect(redactHeaders({ Authorization: 'Bearer x', accept: 'text/event-stream' })).toEqual({ Authorization: '***', accept: 'text/event-stream' });
  });
});

describe('errors', () => {
  it('carry stable codes and exit codes', () => {
    const error = new HttpStatusError(409, 'server answered 409', { serverCode: 'stream_limit' });
    expect(error.exitCode).toBe(ExitCode.refused);
    expect(error.serverCode).toBe('stream_limit');
    expect(new UsageError('x').exitCode).toBe(2);
  });
});

describe('terminal escaping', () => {
  it('escapes ESC, BEL, DEL and C1 but keeps newlines and tabs', () => {
    expect(escapeControl('\u001b[31mred\u0007\u007f\u009b\tok\nnext')).toBe('\\x1b[31mred\\x07\\x7f\\x9b\tok\nnext');
    expect(escapeControl('a\nb', false)).toBe('a\\nb');
  });
});
