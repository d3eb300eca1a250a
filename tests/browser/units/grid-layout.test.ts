import { describe, expect, it } from 'vitest';
import { gridLayout } from '../../../web/src/panels/vm-grid';

const GAP = 3;
const rowsOf = (count: number, columns: number) => Math.ceil(count / columns);
const heightOf = (count: number, l: ReturnType<typeof gridLayout>) =>
  rowsOf(count, l.columns) * (l.tileHeight + GAP) - GAP;

describe('gridLayout', () => {
  it.each([
    { width: 996, count: 120, dimensions: 5 },
    { width: 996, count: 8, dimensions: 4 },
    { width: 600, count: 500, dimensions: 4 },
    { width: 320, count: 1, dimensions: 1 },
  ])('fits $count VMs with $dimensions stripes in $width px', ({ width, count, dimensions }) => {
    const l = gridLayout(width, count, dimensions);
    // Every tile of a row lies inside the canvas.
    expect(l.columns * l.tile + (l.columns - 1) * GAP).toBeLessThanOrEqual(width + 1e-9);
    // One stripe per dimension, separated by one pixel.
    expect(l.tileHeight).toBe(l.stripe * dimensions + (dimensions - 1));
    expect(l.columns).toBeLessThanOrEqual(count);
  });

  it('uses the largest tiles that keep the map within 260 px', () => {
    // 996 px, 120 VMs, 5 stripes; tile = (996 - 3(c-1)) / c, stripe = floor(0.8 min(tile, 56) / 5),
    // height = ceil(120 / c) (5 stripe + 4 + 3) - 3:
    //   c = 19: tile 49.58, stripe 7, 7 rows -> 291 px (too tall)
    //   c = 20: tile 46.95, stripe 7, 6 rows -> 249 px
    const l = gridLayout(996, 120, 5);
    expect(l.columns).toBe(20);
    expect(l.tile).toBeCloseTo(46.95, 10);
    expect(l.stripe).toBe(7);
    expect(heightOf(120, l)).toBe(249);
  });

  it('stops shrinking at 14 px tiles and grows taller for very large fleets', () => {
    const l = gridLayout(600, 2000, 4);
    // (600 + 3) / (14 + 3) = 35.47 -> 35 columns of at least 14 px
    expect(l.columns).toBe(35);
    expect(l.tile).toBeGreaterThanOrEqual(14);
    expect(heightOf(2000, l)).toBeGreaterThan(260);
  });

  it('fills the width with a single VM instead of a lone small tile', () => {
    const l = gridLayout(320, 1, 4);
    expect(l.columns).toBe(1);
    expect(l.tile).toBe(320);
  });
});
