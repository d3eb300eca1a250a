import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../lib/engine/backoff';

describe('backoffDelay (full jitter)', () => {
  it.each([
    // ceiling = min(cap, base * 2^(attempt-1)); delay = random * ceiling
    { attempt: 1, random: 0.5, expected: 0.5 * 5 },
    { attempt: 2, random: 0.5, expected: 0.5 * 10 },
    { attempt: 4, random: 0.25, expected: 0.25 * 40 },
    { attempt: 10, random: 0.5, expected: 0.5 * 2000 }, // 5 * 512 capped at 2000
    { attempt: 3, random: 0, expected: 0 },
  ])('attempt $attempt with random $random waits $expected ms', ({ attempt, random, expected }) => {
    expect(backoffDelay(attempt, { random: () => random })).toBe(expected);
  });

  it('grows from the duration of the attempt that lost when that is longer than the base', () => {
    const half = () => 0.5;
    expect(backoffDelay(1, { random: half }, 60)).toBe(30);
    expect(backoffDelay(3, { random: half }, 60)).toBe(0.5 * 240);
    expect(backoffDelay(3, { random: half, capMs: 200 }, 60)).toBe(100);
    // A quicker attempt than the base (SQLite) leaves the base in charge.
    expect(backoffDelay(2, { random: half }, 1)).toBe(5);
    expect(backoffDelay(2, { random: half }, Number.NaN)).toBe(5);
  });

  it('honours base and cap', () => {
    expect(backoffDelay(3, { baseMs: 100, capMs: 300, random: () => 0.5 })).toBe(150);
    expect(backoffDelay(1, { baseMs: 100, capMs: 300, random: () => 0.5 })).toBe(50);
  });
});
