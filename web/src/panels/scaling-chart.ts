import uPlot from 'uplot';
import type { FrameScheduler } from '../frame';
import { SeriesWindow } from '../ring';
import { THEME, withAlpha } from '../theme';
import type { AutoscaleStatus, ScalingEvent } from '../wire';
import { fitWidth, NO_POINTS, themedAxes } from './chart-options';

const HEIGHT = 190;
const WINDOW = 300;
const MAX_MARKERS = 200;
const FLEET = '#5b9dff';
const ACTIVE = '#a57cff';
const BACKLOG = '#ffb547';
const OUT = '#2fd1a1';
const IN = '#ff6b8b';

interface Marker {
  /** Seconds, uPlot's time unit. */
  at: number;
  action: 'scale-out' | 'scale-in';
}

/**
 * Fleet size and backlog per VM over time with the autoscaler's actions as markers: a scale-out
 * should follow a backlog held above the target line, and a scale-in a long stretch below it.
 */
export class ScalingChart {
  readonly #series = new SeriesWindow(4, WINDOW);
  readonly #markers: Marker[] = [];
  readonly #chart: uPlot;
  #target: number | null = null;
  #pending: { at: number; status: AutoscaleStatus } | null = null;

  constructor(
    private readonly host: HTMLElement,
    private readonly summary: HTMLElement,
    private readonly frames: FrameScheduler,
  ) {
    const [x, y] = themedAxes((v) => String(Math.round(v * 10) / 10), 40);
    this.#chart = new uPlot(
      {
        width: Math.max(200, host.clientWidth),
        height: HEIGHT,
        legend: { show: false },
        cursor: { drag: { x: false, y: false }, points: { show: false } },
        scales: {
          x: { time: true },
          vms: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil((max ?? 4) * 1.15))] },
          backlog: { range: (_u, _min, max) => [0, Math.max(1, (max ?? 1) * 1.15)] },
        },
        axes: [
          // Whole seconds: a window of a few seconds would otherwise repeat each label.
          { ...x!, incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600] },
          // Whole VMs only: no 2.5 on the VM axis.
          { ...y!, scale: 'vms', stroke: FLEET, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] },
          { ...y!, scale: 'backlog', side: 1, stroke: BACKLOG, grid: { show: false } },
        ],
        series: [
          {},
          {
            label: 'VMs',
            scale: 'vms',
            stroke: FLEET,
            width: 2,
            paths: uPlot.paths.stepped?.({ align: 1 }),
            points: NO_POINTS,
          },
          {
            label: 'active VMs',
            scale: 'vms',
            stroke: ACTIVE,
            width: 1.5,
            dash: [4, 3],
            paths: uPlot.paths.stepped?.({ align: 1 }),
            points: NO_POINTS,
          },
          {
            label: 'backlog per VM',
            scale: 'backlog',
            stroke: BACKLOG,
            width: 2,
            fill: withAlpha(BACKLOG, 0.1),
            points: NO_POINTS,
          },
          {
            label: 'target',
            scale: 'backlog',
            stroke: THEME.muted,
            width: 1,
            dash: [2, 4],
            points: NO_POINTS,
          },
        ],
        hooks: { draw: [(u) => this.#drawMarkers(u)] },
      },
      this.#series.data(),
      host,
    );
    this.#chart.root.style.color = THEME.muted;
    fitWidth(this.#chart, host, HEIGHT);
  }

  configure(target: number | null): void {
    this.#target = target;
  }

  reset(): void {
    this.#series.clear();
    this.#markers.length = 0;
    this.host.dataset.markers = '0';
  }

  update(atMs: number, status: AutoscaleStatus): void {
    // Not rounded to the second: a step must not appear before the marker of the action behind it.
    this.#pending = { at: atMs / 1000, status };
    this.frames.schedule('scaling-chart', () => {
      const pending = this.#pending;
      if (!pending) return;
      this.#pending = null;
      const { status: s } = pending;
      this.#series.push(pending.at, [s.fleet_size, s.active_vms, s.backlog_per_vm, this.#target]);
      this.#chart.setData(this.#series.data());
      this.host.dataset.samples = String(this.#series.length);
      this.host.dataset.fleetSize = String(s.fleet_size);
      this.summary.textContent = describe(s, this.#target);
    });
  }

  /** Retirements are not drawn: the step in the VM line already shows them. */
  mark(event: ScalingEvent): void {
    if (event.action === 'retire') return;
    this.#markers.push({ at: Date.parse(event.at) / 1000, action: event.action });
    if (this.#markers.length > MAX_MARKERS) this.#markers.shift();
    this.host.dataset.markers = String(this.#markers.length);
    this.frames.schedule('scaling-chart-markers', () => this.#chart.redraw(false, false));
  }

  #drawMarkers(u: uPlot): void {
    const { ctx } = u;
    const { left, top, width, height } = u.bbox;
    ctx.save();
    ctx.lineWidth = Math.max(1, devicePixelRatio);
    for (const marker of this.#markers) {
      const x = u.valToPos(marker.at, 'x', true);
      if (!(x >= left && x <= left + width)) continue;
      const colour = marker.action === 'scale-out' ? OUT : IN;
      ctx.strokeStyle = withAlpha(colour, 0.7);
      ctx.fillStyle = colour;
      ctx.setLineDash([3 * devicePixelRatio, 3 * devicePixelRatio]);
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
      // A triangle pointing the way the fleet went.
      const s = 5 * devicePixelRatio;
      const tip = marker.action === 'scale-out' ? top : top + 2 * s;
      const base = marker.action === 'scale-out' ? top + 2 * s : top;
      ctx.setLineDash([]);
      ctx.beginPath();
      ctx.moveTo(x, tip);
      ctx.lineTo(x - s, base);
      ctx.lineTo(x + s, base);
      ctx.closePath();
      ctx.fill();
    }
    ctx.restore();
  }
}

function describe(s: AutoscaleStatus, target: number | null): string {
  const parts = [
    `${s.active_vms} active / ${s.fleet_size} VMs`,
    `backlog per VM ${s.backlog_per_vm.toFixed(1)}${target === null ? '' : ` (target ${target})`}`,
    `${s.scale_outs} out · ${s.scale_ins} in`,
  ];
  if (s.last) parts.push(`last: ${s.last.action} ${s.last.vm_ids.join(' ')} (${s.last.reason})`);
  return parts.join(' · ');
}
