import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../lib/engine/backoff';

describe('backoffDelay (full jitter)', () => {
  it.each([
    // ceiling = min(cap, base * 2^(attempt-1)); delay = random * ceiling
    { attempt: 1, random: 0.5, expected: 0.5 * 5 },
    { attempt: 2, random: 0.5, expected: 0.5 * 10 },
    { attempt: 4, random: 0.25, expected: 0.25 * 40 },
    { attempt: 10, random: 0.5, expected: 0.5 * 250 }, // 5 * 512 capped at 250
    { attempt: 3, random: 0, expected: 0 },
  ])('attempt $attempt with random $random waits $expected ms', ({ attempt, random, expected }) => {
    expect(backoffDelay(attempt, { random: () => random })).toBe(expected);
  });

  it('honours base and cap', () => {
    expect(backoffDelay(3, { baseMs: 100, capMs: 300, random: () => 0.5 })).toBe(150);
    expect(backoffDelay(1, { baseMs: 100, capMs: 300, random: () => 0.5 })).toBe(50);
  });
});
