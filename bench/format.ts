import Table from 'cli-table3';
import type { BenchReport } from './run';

const range = ([lo, hi]: [number, number]) => `${lo}–${hi}`;

/** The report as terminal tables; the JSON (--json) carries the same figures. */
export function formatReport(report: BenchReport): string {
  const out: string[] = [];
  if (report.placement) {
    const t = new Table({
      head: [
        'algorithm',
        'VMs',
        'batch',
        'median µs',
        'p99 µs',
        'decisions/s',
        'median µs (runs)',
        'layout µs',
      ],
      style: { head: [] },
    });
    for (const r of report.placement) {
      t.push([
        r.algorithm,
        r.vms,
        r.batch,
        r.median_us,
        r.p99_us,
        r.decisions_per_s,
        range(r.spread.median_us),
        r.layout_us,
      ]);
    }
    out.push('Placement, per decision (Scheduler.schedule on a half-loaded fleet)', t.toString());
  }
  if (report.ledger) {
    const l = report.ledger;
    const t = new Table({ head: ['figure', 'median', 'runs (min–max)'], style: { head: [] } });
    t.push(['build tx/s', l.build_tx_per_s, range(l.spread.build_tx_per_s)]);
    t.push(['verify tx/s', l.verify_tx_per_s, range(l.spread.verify_tx_per_s)]);
    t.push(['plain SHA-256 tx/s', l.sha256_tx_per_s, range(l.spread.sha256_tx_per_s)]);
    t.push(['verify / SHA-256', l.verify_vs_sha256, '']);
    if (l.verify_parallel_tx_per_s !== undefined && l.spread.verify_parallel_tx_per_s) {
      const threads = `${l.verify_workers} worker threads`;
      t.push([
        `verify tx/s, ${threads}`,
        l.verify_parallel_tx_per_s,
        range(l.spread.verify_parallel_tx_per_s),
      ]);
      t.push([`verify / SHA-256, ${threads}`, l.verify_parallel_vs_sha256 ?? '', '']);
    }
    out.push(
      `Ledger: ${l.transactions} transactions, ${l.block_size} per block, ${l.export_bytes} bytes exported`,
      t.toString(),
    );
  }
  if (report.ledger_scale) {
    const head = [
      'store',
      'blocks',
      'cold start ms',
      'summary ms',
      'proof ms',
      'consistency ms',
      'audit ms/1000 new',
      'RSS MB',
      'seed s',
      'load 1m',
    ];
    const t = new Table({ head, style: { head: [] } });
    for (const r of report.ledger_scale) {
      t.push([
        r.store,
        r.blocks,
        r.cold_start_ms,
        r.summary_ms,
        r.proof_ms,
        r.consistency_proof_ms,
        r.incremental_verify_ms_per_1000_blocks,
        r.rss_mb,
        r.seed_s,
        r.load_avg_1m ?? '',
      ]);
    }
    out.push('Ledger at scale (medians; one process per row)', t.toString());
  }
  if (report.embedded) {
    const e = report.embedded;
    const t = new Table({ head: ['figure', 'median', 'runs (min–max)'], style: { head: [] } });
    if ('spread' in e) {
      t.push(['placed tasks/s at saturation', e.tasks_per_s, range(e.spread.tasks_per_s)]);
      if ('decided_per_s' in e) {
        t.push(['decided tasks/s at saturation', e.decided_per_s, '']);
        t.push(['placed share', e.placed_share, '']);
        for (const o of e.open_loop) {
          t.push([
            `open loop ${o.rate_per_s}/s (${o.fraction * 100} %): p50 ms`,
            o.p50_ms,
            range(o.spread.p50_ms),
          ]);
          t.push([
            `open loop ${o.rate_per_s}/s (${o.fraction * 100} %): p99 ms`,
            o.p99_ms,
            range(o.spread.p99_ms),
          ]);
        }
        t.push(['closed loop at saturation: p99 ms', e.closed_loop.p99_ms, range(e.spread.p99_ms)]);
        t.push(['statuses', JSON.stringify(e.statuses), '']);
      }
      out.push(
        `Embedded runtime: ${e.runs} runs of ${e.tasks_per_run} tasks, ${e.concurrency} clients x ${e.batch} tasks`,
        t.toString(),
      );
    } else {
      out.push(`Embedded runtime: not measured (${e.reason})`);
    }
  }
  out.push(`Emulator: ${report.emulator.reason}`);
  const scaling = report.emulator.scaling;
  if (Array.isArray(scaling)) {
    const t = new Table({
      head: ['schedulers', 'decisions/s', 'head conflicts per block', 'attempts per call', 'tasks'],
      style: { head: [] },
    });
    for (const r of scaling)
      t.push([r.schedulers, r.decisions_per_s, r.conflicts_per_block, r.attempts_mean, r.tasks]);
    out.push('One chain on the emulator, by concurrent schedulers', t.toString());
  } else if (scaling) {
    out.push(`One chain on the emulator: ${scaling.reason}`);
  }
  if (report.lambda?.functions) {
    const t = new Table({
      head: [
        'function',
        'bundle KB',
        'zipped KB',
        'import ms (min–max)',
        'AWS init est. ms',
        'emulator 1st / next ms',
        'heaviest',
      ],
      style: { head: [] },
    });
    for (const f of report.lambda.functions) {
      t.push([
        f.function,
        f.bundle_kb,
        f.zipped_kb,
        `${f.import_ms} (${f.import_ms_min}–${f.import_ms_max})`,
        f.aws_init_estimate_ms,
        f.emulator_cold_invoke_ms === null
          ? ''
          : `${f.emulator_cold_invoke_ms} / ${f.emulator_warm_invoke_ms}`,
        f.heaviest
          .slice(0, 3)
          .map((h) => `${h.package} ${h.kb}`)
          .join(', '),
      ]);
    }
    out.push('Lambda bundles (as the stack builds them)', t.toString());
  }
  const env = report.environment;
  out.push(
    `Node ${env.node}, ${env.cpus} CPUs, load average ${env.load_average_1m.toFixed(1)} at start${env.quick ? ', --quick' : ''}`,
  );
  return out.join('\n');
}
