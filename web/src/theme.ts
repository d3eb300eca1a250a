/** Colours shared by the canvas and chart code (the CSS holds the same palette as custom properties). */

export const THEME = {
  text: '#d5def0',
  muted: '#8392b0',
  grid: 'rgba(148, 163, 196, 0.10)',
  axis: 'rgba(148, 163, 196, 0.35)',
  surface: '#111a2c',
} as const;

const DIMENSION_COLOURS: Record<string, string> = {
  cpu: '#5b9dff',
  mem: '#a57cff',
  io: '#2fd1a1',
  bw: '#ffb547',
  gpu: '#ff6b8b',
};
const EXTRA_COLOURS = ['#4dd0e1', '#c0ca33', '#f06292', '#9575cd', '#ffd54f'];

/** A stable colour per dimension; configured extras get one from a second palette by position. */
export function dimensionColour(dimension: string, index: number): string {
  return DIMENSION_COLOURS[dimension] ?? EXTRA_COLOURS[index % EXTRA_COLOURS.length]!;
}

/** `#rrggbb` with an alpha, for band fills under a series colour. */
export function withAlpha(hex: string, alpha: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/**
 * Heat colour for a utilisation fraction: teal when idle, through amber, to red when full, and a
 * saturated magenta past capacity so overcommitment cannot be mistaken for "busy".
 */
export function heatColour(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '#1a2336';
  if (value > 1.0001) return '#ff2e88';
  const stops: [number, [number, number, number]][] = [
    [0, [22, 44, 62]],
    [0.25, [24, 130, 140]],
    [0.5, [72, 190, 120]],
    [0.75, [240, 190, 60]],
    [1, [236, 72, 62]],
  ];
  const v = Math.max(0, value);
  for (let i = 1; i < stops.length; i++) {
    const [hi, high] = stops[i]!;
    const [lo, low] = stops[i - 1]!;
    if (v <= hi) {
      const t = (v - lo) / (hi - lo);
      const c = low.map((l, k) => Math.round(l + (high[k]! - l) * t));
      return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
    }
  }
  return 'rgb(236, 72, 62)';
}
