import { describe, expect, it } from 'vitest';
import { decimal, percent, shortHash, toEpochMs } from '../../../web/src/format';

describe('toEpochMs', () => {
  it.each([
    { at: '2026-11-21T05:28:25.123Z', expected: Date.UTC(2026, 10, 21, 5, 28, 25, 123) },
    // epoch seconds, the ledger's deadline unit
    { at: 1762306597, expected: 1762306597000 },
    // epoch milliseconds pass through
    { at: 1762306597123, expected: 1762306597123 },
  ])('$at -> $expected', ({ at, expected }) => {
    expect(toEpochMs(at)).toBe(expected);
  });
});

describe('display formats', () => {
  it('shows a dash, not 0 or NaN, for missing figures', () => {
    expect(percent(null)).toBe('—');
    expect(percent(Number.NaN)).toBe('—');
    expect(decimal(undefined)).toBe('—');
  });

  it('formats fractions as percentages', () => {
    expect(percent(0.4567)).toBe('45.7%');
    expect(percent(1.25, 0)).toBe('125%');
  });

  it('shortens hashes to head and tail', () => {
    const hash = 'ab'.repeat(32);
    expect(shortHash(hash, 4, 2)).toBe('abab…ab');
    expect(shortHash('abc')).toBe('abc');
    expect(shortHash(null)).toBe('—');
  });
});
