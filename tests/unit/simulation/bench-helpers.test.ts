import { describe, expect, it } from 'vitest';
import { median, quantile, round, spread } from '../../../bench/stats';
import { barChart } from '../../../bench/svg-bars';

describe('bench statistics', () => {
  it.each([
    // Nearest rank: the smallest value with at least q of the samples at or below it.
    { values: [5, 1, 4, 2, 3], q: 0.5, expected: 3 },
    { values: [1, 2, 3, 4], q: 0.5, expected: 2 },
    { values: Array.from({ length: 100 }, (_, i) => 100 - i), q: 0.99, expected: 99 },
    { values: [7], q: 0.99, expected: 7 },
  ])('quantile($values, $q) = $expected', ({ values, q, expected }) => {
    const copy = [...values];
    expect(quantile(values, q)).toBe(expected);
    expect(values).toEqual(copy);
  });

  it('summarises runs as median with the lowest and highest run', () => {
    expect(spread([3, 9, 1])).toEqual({ median: 3, min: 1, max: 9 });
    expect(median([])).toBeNaN();
    expect(round(123456)).toBe(123000);
    expect(round(0.00123456)).toBe(0.00123);
  });
});

describe('barChart', () => {
  it('draws one bar per value, skips missing ones and escapes text', () => {
    const svg = barChart({
      title: 'a < b & c',
      categories: ['x', 'y'],
      series: [
        { name: 's1', values: [1, null] },
        { name: 's2', values: [2, 3] },
      ],
      unit: 'µs',
      target: { value: 2.5, label: 'target' },
    });
    expect(svg.startsWith('<svg')).toBe(true);
    // Three bars plus the two legend swatches and the background.
    expect(svg.match(/<rect /g)).toHaveLength(3 + 2 + 1);
    expect(svg).toContain('a &lt; b &amp; c');
    expect(svg).toContain('stroke-dasharray');
  });
});
