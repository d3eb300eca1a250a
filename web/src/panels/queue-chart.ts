import uPlot from 'uplot';
import type { FrameScheduler } from '../frame';
import { SeriesWindow } from '../ring';
import { THEME, withAlpha } from '../theme';
import { fitWidth, NO_POINTS, themedAxes } from './chart-options';

const HEIGHT = 190;
const WINDOW = 300;
const QUEUE = '#ffb547';
const THROUGHPUT = '#2fd1a1';

function compact(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return String(Math.round(value));
}

/** Queue depth against decisions per second: a queue that grows while throughput is flat is backlog. */
export class QueueChart {
  readonly #series = new SeriesWindow(2, WINDOW);
  readonly #chart: uPlot;
  #pending: { at: number; depth: number; throughput: number } | null = null;

  constructor(
    private readonly host: HTMLElement,
    private readonly frames: FrameScheduler,
  ) {
    const [x, y] = themedAxes(compact, 44);
    this.#chart = new uPlot(
      {
        width: Math.max(200, host.clientWidth),
        height: HEIGHT,
        legend: { show: false },
        cursor: { drag: { x: false, y: false }, points: { show: false } },
        scales: {
          x: { time: true },
          depth: { range: (_u, _min, max) => [0, Math.max(10, max ?? 10)] },
          rate: { range: (_u, _min, max) => [0, Math.max(10, max ?? 10)] },
        },
        axes: [
          x!,
          { ...y!, scale: 'depth', stroke: QUEUE },
          { ...y!, scale: 'rate', side: 1, stroke: THROUGHPUT, grid: { show: false } },
        ],
        series: [
          {},
          {
            label: 'queue depth',
            scale: 'depth',
            stroke: QUEUE,
            width: 2,
            fill: withAlpha(QUEUE, 0.12),
            points: NO_POINTS,
          },
          { label: 'decisions/s', scale: 'rate', stroke: THROUGHPUT, width: 2, points: NO_POINTS },
        ],
      },
      this.#series.data(),
      host,
    );
    this.#chart.root.style.color = THEME.muted;
    fitWidth(this.#chart, host, HEIGHT);
  }

  reset(): void {
    this.#series.clear();
  }

  update(atMs: number, depth: number, throughput: number): void {
    this.#pending = { at: Math.floor(atMs / 1000), depth, throughput };
    this.frames.schedule('queue-chart', () => {
      if (!this.#pending) return;
      this.#series.push(this.#pending.at, [this.#pending.depth, this.#pending.throughput]);
      this.#pending = null;
      this.#chart.setData(this.#series.data());
      this.host.dataset.samples = String(this.#series.length);
    });
  }
}
