import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../lib/scheduling/prng';

describe('mulberry32', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const draw = (seed: number) => {
      const next = mulberry32(seed);
      return Array.from({ length: 8 }, () => next());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('stays in [0, 1) and covers it roughly evenly', () => {
    const next = mulberry32(123);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const x = next();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      buckets[Math.floor(x * 10)]!++;
    }
    // 1000 expected per bucket; 5 standard deviations is about 150.
    for (const count of buckets) expect(Math.abs(count - 1000)).toBeLessThan(150);
  });
});
