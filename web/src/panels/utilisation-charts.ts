import uPlot from 'uplot';
import { h, setText } from '../dom';
import { type FleetSpread, fleetSpread } from '../fleet-stats';
import { percent } from '../format';
import type { FrameScheduler } from '../frame';
import { SeriesWindow } from '../ring';
import { dimensionColour, withAlpha } from '../theme';
import type { FleetVm } from '../wire';
import { fitWidth, NO_POINTS, themedAxes } from './chart-options';

const HEIGHT = 150;
/** Five minutes at the server's once-a-second fleet events. */
const WINDOW = 300;

interface DimensionChart {
  dimension: string;
  series: SeriesWindow;
  chart: uPlot;
  observer: ResizeObserver;
  latest: HTMLElement;
}

/**
 * One small chart per configured dimension: the fleet mean of reserved capacity as a line inside a
 * band from the least to the most reserved VM, and measured usage as a dashed line. A wide band is
 * load imbalance at a glance; this scales to any fleet size, unlike a chart per VM.
 */
export class UtilisationCharts {
  #charts: DimensionChart[] = [];
  #vms: readonly FleetVm[] = [];
  #at = 0;

  constructor(
    private readonly container: HTMLElement,
    private readonly frames: FrameScheduler,
  ) {}

  /** Rebuilds the charts for the configured dimensions (on each snapshot: they may have changed). */
  configure(dimensions: readonly string[], units: Record<string, string>): void {
    if (this.#charts.map((c) => c.dimension).join() === dimensions.join()) {
      for (const c of this.#charts) c.series.clear();
      return;
    }
    for (const c of this.#charts) {
      c.observer.disconnect();
      c.chart.destroy();
    }
    this.container.replaceChildren();
    this.container.style.setProperty(
      '--chart-columns',
      String(dimensions.length <= 4 ? Math.min(2, dimensions.length) : 3),
    );
    this.#charts = dimensions.map((dimension, index) => this.#create(dimension, index, units[dimension]));
  }

  #create(dimension: string, index: number, unit: string | undefined): DimensionChart {
    const colour = dimensionColour(dimension, index);
    const latest = h(
      'span',
      { class: 'chart-latest', 'data-testid': `utilisation-latest-${dimension}` },
      '—',
    );
    const plotHost = h('div', { class: 'chart-host' });
    const figure = h(
      'figure',
      {
        class: 'dimension-chart',
        'data-testid': `utilisation-chart-${dimension}`,
        'data-dimension': dimension,
      },
      h(
        'figcaption',
        {},
        h('span', { class: 'swatch', style: `background:${colour}` }),
        h('strong', {}, dimension),
        unit ? h('span', { class: 'unit' }, unit) : null,
        latest,
      ),
      plotHost,
    );
    this.container.append(figure);
    const series = new SeriesWindow(4, WINDOW);
    const chart = new uPlot(
      {
        width: Math.max(200, plotHost.clientWidth),
        height: HEIGHT,
        legend: { show: false },
        cursor: { drag: { x: false, y: false }, points: { show: false } },
        scales: {
          x: { time: true },
          y: { range: (_u, _min, max) => [0, Math.max(1, max ?? 1)] },
        },
        axes: themedAxes((v) => `${Math.round(v * 100)}%`, 40),
        series: [
          {},
          { label: 'reserved mean', stroke: colour, width: 2, points: NO_POINTS },
          { label: 'reserved min', stroke: withAlpha(colour, 0.35), width: 1, points: NO_POINTS },
          { label: 'reserved max', stroke: withAlpha(colour, 0.35), width: 1, points: NO_POINTS },
          {
            label: 'usage mean',
            stroke: withAlpha('#ffffff', 0.55),
            width: 1.25,
            dash: [4, 4],
            points: NO_POINTS,
          },
        ],
        bands: [{ series: [3, 2], fill: withAlpha(colour, 0.16) }],
      },
      series.data(),
      plotHost,
    );
    return { dimension, series, chart, observer: fitWidth(chart, plotHost, HEIGHT), latest };
  }

  /** Adds one fleet sample (epoch ms) to every chart. */
  update(vms: readonly FleetVm[], atMs: number): void {
    this.#vms = vms;
    this.#at = Math.floor(atMs / 1000);
    this.frames.schedule('utilisation', () => this.#render());
  }

  #render(): void {
    const spreads = fleetSpread(
      this.#vms,
      this.#charts.map((c) => c.dimension),
    );
    for (const c of this.#charts) {
      const s = spreads.get(c.dimension) as FleetSpread;
      c.series.push(this.#at, [s.reserved.mean, s.reserved.min, s.reserved.max, s.usage.mean]);
      c.chart.setData(c.series.data());
      setText(
        c.latest,
        `${percent(s.reserved.mean)} reserved · ${percent(s.reserved.min, 0)}–${percent(s.reserved.max, 0)}`,
      );
    }
  }
}
