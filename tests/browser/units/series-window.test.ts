import { describe, expect, it } from 'vitest';
import { SeriesWindow } from '../../../web/src/ring';

describe('SeriesWindow', () => {
  it('keeps aligned columns, x first', () => {
    const w = new SeriesWindow(2, 10);
    w.push(1, [10, 100]);
    w.push(2, [20, null]);
    expect(w.data()).toEqual([
      [1, 2],
      [10, 20],
      [100, null],
    ]);
  });

  it('drops the oldest sample past its capacity', () => {
    const w = new SeriesWindow(1, 3);
    for (let x = 1; x <= 5; x++) w.push(x, [x * 10]);
    expect(w.data()).toEqual([
      [3, 4, 5],
      [30, 40, 50],
    ]);
    expect(w.length).toBe(3);
  });

  it('replaces a second sample at the same x instead of stacking two points', () => {
    const w = new SeriesWindow(1, 3);
    w.push(7, [1]);
    w.push(7, [2]);
    expect(w.data()).toEqual([[7], [2]]);
  });

  it('refuses a sample with the wrong number of values', () => {
    expect(() => new SeriesWindow(2, 3).push(1, [1])).toThrow('expected 2 values, got 1');
  });

  it('refuses a capacity below one', () => {
    expect(() => new SeriesWindow(1, 0)).toThrow('capacity must be at least 1, got 0');
  });

  it('empties on clear', () => {
    const w = new SeriesWindow(1, 3);
    w.push(1, [1]);
    w.clear();
    expect(w.data()).toEqual([[], []]);
  });
});
