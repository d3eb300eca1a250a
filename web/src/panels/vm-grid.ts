import { h, setText } from '../dom';
import { fraction } from '../fleet-stats';
import { percent } from '../format';
import type { FrameScheduler } from '../frame';
import { heatColour, THEME } from '../theme';
import type { FleetVm, VmLedgerStats } from '../wire';

const GAP = 3;
const MIN_TILE = 14;
const MAX_TILE = 56;

export type GridMetric = 'reserved' | 'usage';

interface Layout {
  columns: number;
  tile: number;
  stripe: number;
  tileHeight: number;
}

/** Frame and cross of a quarantined VM's tile (the CSS's .quarantine-line uses the same red). */
const QUARANTINE_COLOUR = '#ff6b6b';

/** Height the heat map grows to before tiles shrink instead (more VMs, smaller tiles). */
const TARGET_HEIGHT = 260;

function layoutFor(
  width: number,
  columns: number,
  count: number,
  dimensions: number,
): Layout & { height: number } {
  // Fractional widths let the tiles fill the row exactly; stripe height follows the capped size.
  const tile = Math.max(MIN_TILE, (width - (columns - 1) * GAP) / columns);
  const stripe = Math.max(
    3,
    Math.min(12, Math.floor((Math.min(tile, MAX_TILE) * 0.8) / Math.max(1, dimensions))),
  );
  const tileHeight = stripe * dimensions + Math.max(0, dimensions - 1);
  const rows = Math.ceil(count / columns);
  return { columns, tile, stripe, tileHeight, height: Math.max(0, rows * (tileHeight + GAP) - GAP) };
}

/**
 * The largest tiles that fit `count` VMs in `width` pixels without growing past TARGET_HEIGHT; past
 * that (hundreds of VMs) tiles stay at MIN_TILE and the map grows taller rather than unreadable.
 */
export function gridLayout(width: number, count: number, dimensions: number): Layout {
  const maxColumns = Math.max(1, Math.floor((width + GAP) / (MIN_TILE + GAP)));
  for (let columns = 1; columns <= Math.min(count, maxColumns); columns++) {
    const candidate = layoutFor(width, columns, count, dimensions);
    if (candidate.height <= TARGET_HEIGHT) return candidate;
  }
  return layoutFor(width, Math.max(1, Math.min(count, maxColumns)), count, dimensions);
}

/**
 * Every VM as a tile on one canvas, one horizontal stripe per dimension coloured by utilisation.
 * A canvas redraw of 100+ tiles costs well under a millisecond, where as many DOM nodes restyled every
 * second would not; hovering a tile shows its numbers.
 */
export class VmGrid {
  #vms: readonly FleetVm[] = [];
  #total = 0;
  #dimensions: readonly string[] = [];
  #metric: GridMetric = 'reserved';
  #ledgerStats = new Map<string, VmLedgerStats>();
  #layout: Layout = { columns: 1, tile: MIN_TILE, stripe: 4, tileHeight: 16 };
  readonly #context: CanvasRenderingContext2D;
  readonly #tooltip: HTMLElement;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly summary: HTMLElement,
    private readonly frames: FrameScheduler,
    /** A click on a tile. */
    onSelect: (vm: FleetVm) => void = () => {},
  ) {
    const context = canvas.getContext('2d');
    if (!context) throw new Error('canvas 2d context unavailable');
    this.#context = context;
    this.#tooltip = h('div', { class: 'tooltip', role: 'tooltip', hidden: '' });
    canvas.parentElement?.append(this.#tooltip);
    canvas.addEventListener('mousemove', (e) => this.#hover(e));
    canvas.addEventListener('click', (e) => {
      const vm = this.#vmAt(e);
      if (vm) onSelect(vm);
    });
    canvas.addEventListener('mouseleave', () => {
      this.#tooltip.hidden = true;
    });
    new ResizeObserver(() => this.#invalidate()).observe(canvas.parentElement ?? canvas);
  }

  configure(dimensions: readonly string[]): void {
    this.#dimensions = dimensions;
    this.#invalidate();
  }

  /** Per-VM figures from the ledger (GET /ledger), shown in the tooltip; refreshed every few seconds. */
  setLedgerStats(stats: readonly VmLedgerStats[]): void {
    this.#ledgerStats = new Map(stats.map((s) => [s.vm_id, s]));
  }

  setMetric(metric: GridMetric): void {
    this.#metric = metric;
    this.#invalidate();
  }

  /** `total`: VMs in the fleet when the server sent only the first page of them. */
  update(vms: readonly FleetVm[], total = vms.length): void {
    this.#vms = vms;
    this.#total = total;
    this.#invalidate();
  }

  #invalidate(): void {
    this.frames.schedule('vm-grid', () => this.#render());
  }

  #render(): void {
    const width = this.canvas.parentElement?.clientWidth ?? 600;
    const dims = this.#dimensions;
    const layout = gridLayout(width, this.#vms.length, dims.length);
    this.#layout = layout;
    const rows = Math.ceil(this.#vms.length / layout.columns);
    const height = Math.max(layout.tileHeight, rows * (layout.tileHeight + GAP) - GAP);
    const ratio = window.devicePixelRatio || 1;
    if (
      this.canvas.width !== Math.round(width * ratio) ||
      this.canvas.height !== Math.round(height * ratio)
    ) {
      this.canvas.width = Math.round(width * ratio);
      this.canvas.height = Math.round(height * ratio);
      this.canvas.style.width = `${width}px`;
      this.canvas.style.height = `${height}px`;
    }
    const ctx = this.#context;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    let draining = 0;
    let quarantined = 0;
    this.#vms.forEach((vm, i) => {
      // Whole pixels keep tile edges crisp although the pitch is fractional.
      const left = (i % layout.columns) * (layout.tile + GAP);
      const x = Math.round(left);
      const w = Math.round(left + layout.tile) - x;
      const y = Math.floor(i / layout.columns) * (layout.tileHeight + GAP);
      const source = this.#metric === 'reserved' ? vm.reserved : vm.usage;
      dims.forEach((d, k) => {
        ctx.fillStyle = heatColour(fraction(source[d], vm.capacity[d]));
        ctx.fillRect(x, y + k * (layout.stripe + 1), w, layout.stripe);
      });
      if (vm.state === 'draining') {
        draining++;
        ctx.fillStyle = 'rgba(10, 14, 24, 0.55)';
        ctx.fillRect(x, y, w, layout.tileHeight);
        ctx.strokeStyle = THEME.muted;
        ctx.setLineDash([2, 2]);
        ctx.strokeRect(x + 0.5, y + 0.5, w - 1, layout.tileHeight - 1);
        ctx.setLineDash([]);
      }
      if (vm.quarantine !== undefined) {
        // Quarantined: nothing is placed on it. A red frame and cross, whatever its utilisation.
        quarantined++;
        ctx.strokeStyle = QUARANTINE_COLOUR;
        ctx.lineWidth = 2;
        ctx.strokeRect(x + 1, y + 1, w - 2, layout.tileHeight - 2);
        ctx.beginPath();
        ctx.moveTo(x + 2, y + 2);
        ctx.lineTo(x + w - 2, y + layout.tileHeight - 2);
        ctx.moveTo(x + w - 2, y + 2);
        ctx.lineTo(x + 2, y + layout.tileHeight - 2);
        ctx.stroke();
        ctx.lineWidth = 1;
      }
    });
    this.canvas.dataset.vmCount = String(this.#vms.length);
    const busy = this.#vms.reduce((n, vm) => n + (vm.active_tasks > 0 ? 1 : 0), 0);
    this.canvas.dataset.quarantined = String(quarantined);
    const count =
      this.#total > this.#vms.length
        ? `first ${this.#vms.length} of ${this.#total} VMs`
        : `${this.#vms.length} VMs`;
    setText(
      this.summary,
      `${count} · ${busy} running tasks${draining ? ` · ${draining} draining` : ''}${quarantined ? ` · ${quarantined} quarantined` : ''} · stripes: ${dims.join(' / ')}`,
    );
  }

  /** The VM under the pointer, if the pointer is on a tile rather than in a gap. */
  #vmAt(event: MouseEvent): FleetVm | undefined {
    const { columns, tile, tileHeight } = this.#layout;
    const rect = this.canvas.getBoundingClientRect();
    const px = event.clientX - rect.left;
    const py = event.clientY - rect.top;
    const column = Math.floor(px / (tile + GAP));
    const row = Math.floor(py / (tileHeight + GAP));
    const inside = px % (tile + GAP) < tile && py % (tileHeight + GAP) < tileHeight && column < columns;
    return inside ? this.#vms[row * columns + column] : undefined;
  }

  #hover(event: MouseEvent): void {
    const vm = this.#vmAt(event);
    if (!vm) {
      this.#tooltip.hidden = true;
      return;
    }
    const recorded = this.#ledgerStats.get(vm.id);
    this.#tooltip.replaceChildren(
      h('strong', {}, vm.id),
      h('span', { class: `state state-${vm.state}` }, vm.state),
      h(
        'div',
        { class: 'muted' },
        `${vm.active_tasks} active tasks${vm.state === 'active' ? ' · click to drain' : ''}`,
      ),
      h(
        'table',
        {},
        h('tr', {}, h('th', {}), h('th', {}, 'reserved'), h('th', {}, 'usage')),
        ...this.#dimensions.map((d) =>
          h(
            'tr',
            {},
            h('td', {}, d),
            h('td', {}, percent(fraction(vm.reserved[d], vm.capacity[d]))),
            h('td', {}, percent(fraction(vm.usage[d], vm.capacity[d]))),
          ),
        ),
      ),
    );
    if (vm.gpus !== undefined && vm.gpus.length > 0) this.#tooltip.append(gpuDevices(vm.gpus));
    if (vm.quarantine !== undefined) {
      this.#tooltip.append(h('div', { class: 'quarantine-line' }, `quarantined: ${vm.quarantine}`));
    }
    if (recorded) {
      this.#tooltip.append(
        h(
          'div',
          { class: 'muted ledger-line' },
          `ledger: ${recorded.assignments} assigned · ${recorded.completed} completed · ${recorded.failed} failed · success ${percent(recorded.success_rate, 0)}`,
        ),
      );
    }
    this.#tooltip.hidden = false;
    const host = this.canvas.parentElement!.getBoundingClientRect();
    this.#tooltip.style.left = `${Math.min(event.clientX - host.left + 14, host.width - 190)}px`;
    this.#tooltip.style.top = `${event.clientY - host.top + 14}px`;
  }
}

/**
 * One row per GPU device (the index CUDA_VISIBLE_DEVICES takes): model, a meter of the milli-GPU
 * the ledger holds on it, and the figure.
 */
function gpuDevices(gpus: NonNullable<FleetVm['gpus']>): HTMLElement {
  return h(
    'table',
    { class: 'gpu-devices', 'data-testid': 'gpu-devices' },
    h('tr', {}, h('th', {}, 'GPU'), h('th', {}, 'model'), h('th', {}), h('th', {}, 'milli')),
    ...gpus.map((g, index) =>
      h(
        'tr',
        { 'data-device': String(index) },
        h('td', {}, String(index)),
        h('td', {}, g.model),
        h(
          'td',
          {},
          h('meter', {
            min: '0',
            max: String(g.milli),
            value: String(g.reserved),
            'aria-label': `GPU ${index} ${g.reserved} of ${g.milli} milli-GPU reserved`,
          }),
        ),
        h('td', {}, `${g.reserved}/${g.milli}`),
      ),
    ),
  );
}
