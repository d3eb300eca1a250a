import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { AlgorithmResult } from '../lib/simulation/compare';
import type { QualityReport } from './quality';
import type { BenchReport } from './run';

/**
 * Prints the Markdown tables of docs/performance.md from bench/results/{latest,quality}.json, so
 * the document's figures are generated, not typed:
 *
 *   node --import tsx bench/markdown.ts
 */
const { values } = parseArgs({
  options: { bench: { type: 'string' }, quality: { type: 'string' } },
  strict: true,
});
const pct = (v: number | null | undefined) =>
  v === null || v === undefined ? 'n/a' : `${(100 * v).toFixed(1)}%`;
const table = (head: string[], rows: (string | number)[][]) =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
const out: string[] = [];

const qualityRows = (results: AlgorithmResult[], saturation = false) =>
  results.map((r) => [
    r.algorithm,
    r.tasks,
    r.placed,
    r.rejected,
    pct(r.success_rate),
    r.imbalance_cv.toFixed(3),
    pct(r.deadline_compliance),
    pct(r.mean_utilisation),
    pct(r.fragmentation),
    ...(saturation ? [pct(r.allocated_share)] : []),
  ]);
const qualityHead = [
  'algorithm',
  'tasks',
  'placed',
  'rejected',
  'success',
  'imbalance CV',
  'deadlines met',
  'mean util',
  'fragmentation',
];

try {
  const quality = JSON.parse(
    readFileSync(values.quality ?? 'bench/results/quality.json', 'utf8'),
  ) as QualityReport;
  for (const s of quality.synthetic) {
    out.push(`#### Synthetic, offered load ${s.load} (${s.vms} VMs, ${s.tasks} tasks, seed ${s.seed})`, '');
    out.push(table(qualityHead, qualityRows(s.results)), '');
  }
  if (quality.openb) {
    out.push('#### OpenB trace, live replay', '', table(qualityHead, qualityRows(quality.openb.live)), '');
    out.push(
      '#### OpenB trace, arrivals until saturation',
      '',
      table([...qualityHead, 'GPU allocated'], qualityRows(quality.openb.saturate, true)),
      '',
    );
  }
} catch (error) {
  out.push(`(no quality results: ${(error as Error).message})`);
}

try {
  const bench = JSON.parse(readFileSync(values.bench ?? 'bench/results/latest.json', 'utf8')) as BenchReport;
  if (bench.placement) {
    out.push('#### Placement per decision', '');
    out.push(
      table(
        [
          'algorithm',
          'VMs',
          'batch',
          'median µs',
          'p99 µs',
          'decisions/s',
          'median µs, runs min–max',
          'FleetState.from µs',
        ],
        bench.placement.map((r) => [
          r.algorithm,
          r.vms,
          r.batch,
          r.median_us,
          r.p99_us,
          r.decisions_per_s,
          `${r.spread.median_us[0]}–${r.spread.median_us[1]}`,
          r.layout_us,
        ]),
      ),
      '',
    );
  }
  if (bench.ledger) {
    const l = bench.ledger;
    out.push(
      `#### Ledger (${l.transactions} transactions, ${l.block_size} per block, ${l.export_bytes} bytes)`,
      '',
    );
    out.push(
      table(
        ['figure', 'median', 'runs min–max'],
        [
          ['build tx/s', l.build_tx_per_s, `${l.spread.build_tx_per_s[0]}–${l.spread.build_tx_per_s[1]}`],
          ['verify tx/s', l.verify_tx_per_s, `${l.spread.verify_tx_per_s[0]}–${l.spread.verify_tx_per_s[1]}`],
          [
            'plain SHA-256 tx/s',
            l.sha256_tx_per_s,
            `${l.spread.sha256_tx_per_s[0]}–${l.spread.sha256_tx_per_s[1]}`,
          ],
          ['verify / SHA-256', l.verify_vs_sha256, ''],
          ...(l.verify_parallel_tx_per_s === undefined
            ? []
            : [
                [
                  `verify tx/s, ${l.verify_workers} worker threads`,
                  l.verify_parallel_tx_per_s,
                  `${l.spread.verify_parallel_tx_per_s?.[0]}–${l.spread.verify_parallel_tx_per_s?.[1]}`,
                ],
                [
                  `verify / SHA-256, ${l.verify_workers} worker threads`,
                  l.verify_parallel_vs_sha256 ?? '',
                  '',
                ],
              ]),
        ],
      ),
      '',
    );
  }
  if (bench.embedded && 'spread' in bench.embedded) {
    const e = bench.embedded;
    out.push(
      `#### Embedded runtime (${e.runs} runs x ${e.tasks_per_run} tasks, ${e.concurrency} clients, ${e.batch} tasks per request)`,
      '',
    );
    out.push(
      table(
        ['figure', 'median', 'runs min–max'],
        [
          [
            'placed tasks/s at saturation',
            e.tasks_per_s,
            `${e.spread.tasks_per_s[0]}–${e.spread.tasks_per_s[1]}`,
          ],
          ...(Array.isArray((e as { open_loop?: unknown }).open_loop)
            ? [
                ['decided tasks/s at saturation', e.decided_per_s, ''],
                ['placed share', e.placed_share, ''],
                ...e.open_loop.flatMap((o) => [
                  [
                    `open loop ${o.rate_per_s}/s (${o.fraction * 100} %): p50 ms`,
                    o.p50_ms,
                    `${o.spread.p50_ms[0]}–${o.spread.p50_ms[1]}`,
                  ],
                  [
                    `open loop ${o.rate_per_s}/s (${o.fraction * 100} %): p99 ms`,
                    o.p99_ms,
                    `${o.spread.p99_ms[0]}–${o.spread.p99_ms[1]}`,
                  ],
                ]),
                [
                  'closed loop at saturation: p99 ms',
                  e.closed_loop.p99_ms,
                  `${e.spread.p99_ms[0]}–${e.spread.p99_ms[1]}`,
                ],
              ]
            : [
                ['p50 ms', e.p50_ms, `${e.spread.p50_ms[0]}–${e.spread.p50_ms[1]}`],
                ['p99 ms', e.p99_ms, `${e.spread.p99_ms[0]}–${e.spread.p99_ms[1]}`],
              ]),
          ...(e.unloaded
            ? [
                ['one client: p50 ms', e.unloaded.p50_ms, ''],
                ['one client: p99 ms', e.unloaded.p99_ms, ''],
              ]
            : []),
        ],
      ),
      '',
    );
  }
  if (bench.lambda?.functions) {
    out.push('#### Lambda bundles (`npm run bench -- --only lambda`)', '');
    out.push(
      table(
        [
          'function',
          'bundle KB',
          'zipped KB',
          '< 1 MB',
          'import ms (min–max)',
          'memory MB',
          'AWS init estimate ms',
          'emulator first / next invoke ms',
          'heaviest packages (KB)',
        ],
        bench.lambda.functions.map((f) => [
          f.function,
          f.bundle_kb,
          f.zipped_kb,
          f.under_1_mb ? 'yes' : 'no',
          `${f.import_ms} (${f.import_ms_min}–${f.import_ms_max})`,
          f.memory_mb,
          f.aws_init_estimate_ms,
          f.emulator_cold_invoke_ms === null
            ? 'n/a'
            : `${f.emulator_cold_invoke_ms} / ${f.emulator_warm_invoke_ms}`,
          f.heaviest.map((h) => `${h.package} ${h.kb}`).join(', '),
        ]),
      ),
      '',
    );
  }
  const scaling = bench.emulator?.scaling;
  if (Array.isArray(scaling)) {
    out.push('#### One chain by concurrent schedulers (`emulator.scaling`)', '');
    out.push(
      table(
        ['schedulers', 'decisions/s', 'head conflicts per block', 'attempts per call', 'tasks'],
        scaling.map((r) => [
          r.schedulers,
          r.decisions_per_s,
          r.conflicts_per_block,
          r.attempts_mean,
          r.tasks,
        ]),
      ),
      '',
    );
  }
  if (bench.emulator && 'configurations' in bench.emulator) {
    const m = bench.emulator;
    const [b, one] = m.configurations;
    if (b && one) {
      const n = (v: number | null) => (v === null ? 'n/a' : v);
      out.push(`#### Emulator (${m.runs} run(s) x ${m.tasks_per_run} tasks per configuration)`, '');
      out.push(
        table(
          ['figure', 'batched', 'one block per task'],
          [
            ['wall time s', b.seconds, one.seconds],
            ['tasks/s', b.tasks_per_s, one.tasks_per_s],
            ['DynamoDB requests', n(b.dynamodb_requests), n(one.dynamodb_requests)],
            [
              'decisions per DynamoDB request',
              n(b.decisions_per_dynamodb_request),
              n(one.decisions_per_dynamodb_request),
            ],
            ['scheduler invocations', n(b.scheduler_invocations), n(one.scheduler_invocations)],
            ['tasks per invocation', n(b.tasks_per_invocation), n(one.tasks_per_invocation)],
            [
              'compare-and-set attempts per invocation',
              n(b.attempts_per_invocation),
              n(one.attempts_per_invocation),
            ],
          ],
        ),
        '',
        `Speedup (batched tasks/s / one block per task tasks/s): ${n(m.speedup_vs_one_block_per_task)}`,
        '',
      );
    }
  }
  const env = bench.environment;
  out.push(
    `Environment: Node ${env.node}, ${env.cpus} CPUs, 1-minute load average ${env.load_average_1m.toFixed(1)} at start, ${env.date}.`,
  );
} catch (error) {
  out.push(`(no benchmark results: ${(error as Error).message})`);
}
process.stdout.write(`${out.join('\n')}\n`);
