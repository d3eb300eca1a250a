import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { type AlgorithmResult, compareAlgorithms } from '../lib/simulation/compare';
import { openbWorkload } from '../lib/simulation/openb';
import { syntheticWorkload } from '../lib/simulation/synthetic';
import {
  defaultTraceDir,
  loadOpenbTrace,
  OPENB_NODE_FILE,
  OPENB_POD_FILE,
} from '../lib/simulation/trace-files';

/**
 * Scheduling quality for docs/performance.md: every algorithm on synthetic workloads at 50, 80 and
 * 95% offered load (100 VMs, 10 000 tasks, deadlines with slack, seed 1), and on the OpenB trace in
 * live and saturate modes when ../shared/traces is present. The same figures as
 * `bcs simulate --algorithm all --json` with these flags; written to bench/results/quality.json.
 *
 *   node --import tsx bench/quality.ts [--out FILE]
 */

export interface QualityReport {
  synthetic: { load: number; vms: number; tasks: number; seed: number; results: AlgorithmResult[] }[];
  openb: { live: AlgorithmResult[]; saturate: AlgorithmResult[] } | null;
}

const { values } = parseArgs({ options: { out: { type: 'string' } }, strict: true });
const out = values.out ?? 'bench/results/quality.json';

const report: QualityReport = { synthetic: [], openb: null };
for (const load of [0.5, 0.8, 0.95]) {
  const workload = syntheticWorkload({ vms: 100, tasks: 10_000, load, seed: 1 });
  process.stderr.write(`${workload.name}\n`);
  const results = compareAlgorithms(workload, {
    algorithms: ['all'],
    pending: 'wait',
    departures: true,
    seed: 1,
  });
  report.synthetic.push({ load, vms: 100, tasks: 10_000, seed: 1, results });
}
const dir = defaultTraceDir();
if (dir !== null) {
  const { nodes, pods } = loadOpenbTrace(`${dir}/${OPENB_NODE_FILE}`, `${dir}/${OPENB_POD_FILE}`);
  process.stderr.write(`OpenB trace from ${dir}\n`);
  const live = compareAlgorithms(openbWorkload(nodes, pods, { mode: 'live' }), {
    algorithms: ['all'],
    pending: 'reject',
    departures: true,
    seed: 1,
  });
  const saturate = compareAlgorithms(openbWorkload(nodes, pods, { mode: 'saturate' }), {
    algorithms: ['all'],
    pending: 'reject',
    departures: false,
    seed: 1,
  });
  report.openb = { live, saturate };
} else {
  process.stderr.write('OpenB trace not found (../shared/traces): trace figures skipped\n');
}
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
process.stderr.write(`written to ${out}\n`);
