import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { describeFaults, parseFaults } from '../../src/serve/faults.js';

describe('parseFaults', () => {
  it('is all off by default', () => {
    expect(parseFaults([])).toEqual({ isLeaking: false });
  });

  it('parses every fault, repeatable', () => {
    const faults = parseFaults(['leak', 'delay=300ms', 'drop=0.25', 'stall-after=2s', 'close-every=1m']);
    expect(faults).toEqual({ isLeaking: true, delayMs: 300, dropFraction: 0.25, stallAfterMs: 2000, closeEveryMs: 60_000 });
    expect(describeFaults(faults)).toBe('leak, delay=300ms, drop=0.25, stall-after=2000ms, close-every=60000ms');
  });

  it.each([['nope'], ['leak=1'], ['delay'], ['delay=soon'], ['drop=0'], ['drop=1.5'], ['drop=x'], ['close-every=0s']])('rejects %s with a UsageError', (value) => {
    expect(() => parseFaults([value])).toThrow(UsageError);
  });
});
