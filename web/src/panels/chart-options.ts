import type uPlot from 'uplot';
import { THEME } from '../theme';

/** Axis styling every dashboard chart shares, so the small multiples line up and read alike. */
export function themedAxes(formatY: (value: number) => string, ySize = 46): uPlot.Axis[] {
  const common = {
    stroke: THEME.muted,
    grid: { stroke: THEME.grid, width: 1 },
    ticks: { stroke: THEME.axis, width: 1, size: 4 },
    font: '11px Inter, system-ui, sans-serif',
  };
  return [
    // UTC clock time, like the decisions table; uPlot's default adds a date line that wastes height.
    {
      ...common,
      space: 70,
      values: (_u, splits) => splits.map((t) => new Date(t * 1000).toISOString().slice(11, 19)),
    },
    { ...common, size: ySize, space: 28, values: (_u, splits) => splits.map(formatY) },
  ];
}

/** Keeps a chart as wide as its container (uPlot sizes in pixels and does not observe its parent). */
export function fitWidth(chart: uPlot, container: HTMLElement, height: number): ResizeObserver {
  const observer = new ResizeObserver(() => {
    const width = Math.floor(container.clientWidth);
    if (width > 0 && width !== chart.width) chart.setSize({ width, height });
  });
  observer.observe(container);
  return observer;
}

/** Dots on a once-a-second series are noise; the line is the signal. */
export const NO_POINTS = { show: false } as const;
