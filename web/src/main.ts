import 'uplot/dist/uPlot.min.css';
import '../styles.css';
import { apiToken, request, setApiToken } from './api';
import { byId, setText } from './dom';
import { integer, toEpochMs } from './format';
import { FrameScheduler } from './frame';
import { type ConnectionState, connectLiveEvents } from './live-events';
import { AlgorithmForm } from './panels/algorithm-form';
import { DecisionsTable } from './panels/decisions-table';
import { FleetControls } from './panels/fleet-controls';
import { GeneratorForm } from './panels/generator-form';
import { LedgerPanel } from './panels/ledger-panel';
import { MetricsTable } from './panels/metrics-table';
import { QueueChart } from './panels/queue-chart';
import { ScalingChart } from './panels/scaling-chart';
import { UtilisationCharts } from './panels/utilisation-charts';
import { type GridMetric, VmGrid } from './panels/vm-grid';
import { type FleetVm, ledgerSummarySchema, type MetricsEvent, queueSummarySchema } from './wire';

/** Wires the live event stream to the panels. Each panel batches its own DOM work per frame. */
function start(): void {
  const frames = new FrameScheduler();
  const utilisation = new UtilisationCharts(byId('utilisation-charts'), frames);
  const fleetControls = new FleetControls();
  const grid = new VmGrid(byId<HTMLCanvasElement>('vm-grid'), byId('vm-grid-summary'), frames, (vm) => {
    void fleetControls.drain(vm);
  });
  const queue = new QueueChart(byId('queue-chart'), frames);
  const scalingCard = byId('scaling-card');
  const scaling = new ScalingChart(byId('scaling-chart'), byId('scaling-summary'), frames);
  const metrics = new MetricsTable(byId<HTMLTableSectionElement>('metrics-body'), frames);
  const ledger = new LedgerPanel(frames);
  const decisions = new DecisionsTable(
    byId<HTMLTableSectionElement>('decisions-body'),
    byId('decisions-count'),
    frames,
    (id) => void ledger.showTransaction(id),
    byId('decisions-wrap'),
  );
  const algorithm = new AlgorithmForm();
  const generator = new GeneratorForm();
  const connection = byId('connection');
  const kpiQueue = byId('kpi-queue');
  const kpiThroughput = byId('kpi-throughput');
  const kpiVms = byId('kpi-vms');
  const kpiDeadLetters = byId('kpi-dead-letters');
  const invalid = byId('invalid-events');
  let invalidCount = 0;

  const token = byId<HTMLInputElement>('api-token');
  token.value = apiToken();
  token.addEventListener('change', () => setApiToken(token.value.trim()));
  byId('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    setApiToken(token.value.trim());
  });

  byId<HTMLSelectElement>('vm-grid-metric').addEventListener('change', (event) => {
    grid.setMetric((event.target as HTMLSelectElement).value as GridMetric);
  });

  const showFleet = (vms: readonly FleetVm[], at: number, total = vms.length) => {
    utilisation.update(vms, at);
    grid.update(vms, total);
    const active = vms.filter((vm) => vm.state !== 'draining').length;
    // Above a page (1000 VMs) the server sends the first page and the total: say so rather than guess.
    const shown =
      total > vms.length ? `${active} / ${vms.length} of ${integer(total)}` : `${active} / ${vms.length}`;
    frames.schedule('kpi-vms', () => setText(kpiVms, shown));
  };
  const showDeadLetters = (count: number) => {
    kpiDeadLetters.hidden = count === 0;
    setText(kpiDeadLetters, `${integer(count)} dead letter${count === 1 ? '' : 's'}`);
  };
  const showMetrics = (m: MetricsEvent) => {
    queue.update(toEpochMs(m.at), m.queue_depth, m.throughput_per_s);
    if (m.autoscale) scaling.update(toEpochMs(m.at), m.autoscale);
    metrics.update(m);
    algorithm.showActive(m.algorithm);
    frames.schedule('kpi-metrics', () => {
      setText(kpiQueue, integer(m.queue_depth));
      kpiQueue.dataset.value = String(m.queue_depth);
      setText(kpiThroughput, m.throughput_per_s.toFixed(1));
    });
  };

  connectLiveEvents({
    handlers: {
      snapshot(s) {
        utilisation.configure(s.config.dimensions, s.config.units);
        grid.configure(s.config.dimensions);
        fleetControls.configure(s.config.dimensions);
        queue.reset();
        scaling.reset();
        const autoscale = s.config.autoscale;
        scalingCard.hidden = !autoscale?.enabled;
        scalingCard.parentElement?.classList.toggle('with-scaling', autoscale?.enabled === true);
        scaling.configure(autoscale?.enabled ? autoscale.target_backlog_per_vm : null);
        decisions.reset();
        algorithm.configure(s.config);
        generator.showSpeed(s.config.fleet?.speed);
        ledger.reset(s.ledger);
        grid.setLedgerStats(s.ledger.vms);
        showFleet(s.fleet.vms, Date.now(), s.fleet.total);
        showDeadLetters(s.dead_letters ?? 0);
        if (s.metrics) showMetrics(s.metrics);
        else setText(kpiQueue, integer(s.queue_depth));
      },
      decisions: (e) => decisions.add(e.items),
      block: (b) => ledger.addBlock(b),
      fleet: (f) => showFleet(f.vms, toEpochMs(f.at), f.total),
      metrics: showMetrics,
      scaling: (e) => scaling.mark(e),
    },
    onState(state: ConnectionState) {
      connection.dataset.state = state;
      connection.textContent = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…' }[
        state
      ];
    },
    onInvalid(event, error) {
      invalidCount += 1;
      invalid.hidden = false;
      invalid.textContent = `${invalidCount} malformed event${invalidCount === 1 ? '' : 's'} ignored`;
      invalid.title = `${event}: ${error.message}`;
      console.warn(`ignored ${event} event`, error);
    },
  });
  void generator.load();
  // Events make the page immediate; this keeps the ledger head exact, the generator's count and the
  // per-VM ledger figures fresh.
  let ticks = 0;
  setInterval(() => {
    if (document.hidden) return;
    void ledger.sync();
    void generator.refresh();
    if (++ticks % 3 === 0) {
      request(ledgerSummarySchema, '/ledger').then(
        (summary) => grid.setLedgerStats(summary.vms),
        (error) => console.warn('ledger summary unavailable', error),
      );
      request(queueSummarySchema, '/queue').then(
        (q) => showDeadLetters(q.dead_letters),
        (error) => console.warn('queue summary unavailable', error),
      );
    }
  }, 2000);
}

start();
