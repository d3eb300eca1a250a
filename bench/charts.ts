import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { QualityReport } from './quality';
import type { BenchReport } from './run';
import { barChart } from './svg-bars';

/**
 * Writes the SVG charts of docs/performance.md from the benchmark and quality results:
 *
 *   npm run bench && node --import tsx bench/quality.ts && node --import tsx bench/charts.ts
 */
const { values } = parseArgs({
  options: { bench: { type: 'string' }, quality: { type: 'string' }, out: { type: 'string' } },
  strict: true,
});
const outDir = values.out ?? 'docs/charts';
mkdirSync(outDir, { recursive: true });
const write = (name: string, svg: string) => {
  writeFileSync(join(outDir, name), svg);
  process.stderr.write(`wrote ${join(outDir, name)}\n`);
};
const pct = (v: number) => `${Math.round(v * 100)}%`;

const bench = JSON.parse(readFileSync(values.bench ?? 'bench/results/latest.json', 'utf8')) as BenchReport;
if (bench.placement) {
  const placement = bench.placement;
  for (const [vms, target] of [
    [1000, 20],
    [10_000, 200],
  ] as const) {
    const algorithms = [...new Set(placement.map((r) => r.algorithm))];
    write(
      `placement-${vms}.svg`,
      barChart({
        title: `Placement time per decision, ${vms} VMs (median of runs)`,
        categories: algorithms,
        series: [1, 100].map((batch) => ({
          name: `batch of ${batch}`,
          values: algorithms.map(
            (a) =>
              placement.find((r) => r.algorithm === a && r.vms === vms && r.batch === batch)?.median_us ??
              null,
          ),
        })),
        unit: 'µs per decision',
        target: { value: target, label: `target ${target} µs` },
      }),
    );
  }
}
if (bench.ledger) {
  const l = bench.ledger;
  write(
    'ledger.svg',
    barChart({
      title: `Ledger throughput, ${l.transactions} transactions`,
      categories: ['build', 'verify', 'plain SHA-256'],
      series: [{ name: 'transactions/s', values: [l.build_tx_per_s, l.verify_tx_per_s, l.sha256_tx_per_s] }],
      unit: 'transactions per second',
    }),
  );
}

const quality = JSON.parse(
  readFileSync(values.quality ?? 'bench/results/quality.json', 'utf8'),
) as QualityReport;
const algorithms = quality.synthetic[0]!.results.map((r) => r.algorithm);
const metric = (
  title: string,
  unit: string,
  pick: (r: QualityReport['synthetic'][0]['results'][0]) => number | null,
) =>
  barChart({
    title,
    categories: algorithms,
    series: quality.synthetic.map((s) => ({
      name: `load ${s.load}`,
      values: algorithms.map((a) => {
        const r = s.results.find((x) => x.algorithm === a);
        return r ? pick(r) : null;
      }),
    })),
    unit,
    ...(unit.includes('%') ? { format: pct, max: 1 } : {}),
  });
write(
  'synthetic-success.svg',
  metric('Synthetic: placement success rate', 'success (%)', (r) => r.success_rate),
);
write(
  'synthetic-imbalance.svg',
  metric('Synthetic: load imbalance (CV of utilisation)', 'CV', (r) => r.imbalance_cv),
);
write(
  'synthetic-deadlines.svg',
  metric('Synthetic: deadline compliance', 'deadlines met (%)', (r) => r.deadline_compliance),
);
write(
  'synthetic-utilisation.svg',
  metric('Synthetic: mean utilisation', 'utilisation (%)', (r) => r.mean_utilisation),
);
if (quality.openb) {
  const saturate = quality.openb.saturate;
  write(
    'openb-saturation.svg',
    barChart({
      title: 'OpenB trace, arrivals until saturation: GPU capacity allocated',
      categories: saturate.map((r) => r.algorithm),
      series: [
        { name: 'allocated share of GPU capacity', values: saturate.map((r) => r.allocated_share ?? null) },
      ],
      unit: 'allocated (%)',
      format: pct,
      max: 1,
    }),
  );
}
