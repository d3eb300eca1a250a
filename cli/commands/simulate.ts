import cliProgress from 'cli-progress';
import Table from 'cli-table3';
import { Command } from 'commander';
import * as z from 'zod';
import { parseOrThrow, ValidationError } from '../../lib/errors';
import type { GpuDeviceUse } from '../../lib/scheduling/devices';
import { type AlgorithmResult, compareAlgorithms } from '../../lib/simulation/compare';
import { type OpenbNode, type OpenbPod, openbWorkload } from '../../lib/simulation/openb';
import {
  PAPER_INFLATION,
  PAPER_SEEDS,
  type SaturationResult,
  saturationReplay,
} from '../../lib/simulation/saturation';
import { syntheticWorkload } from '../../lib/simulation/synthetic';
import {
  defaultTraceDir,
  loadOpenbTrace,
  OPENB_NODE_FILE,
  OPENB_POD_FILE,
} from '../../lib/simulation/trace-files';
import type { Workload } from '../../lib/simulation/types';

const number = (flag: string) =>
  z
    .string()
    .trim()
    .min(1, `${flag} needs a value`)
    .transform(Number)
    .refine(Number.isFinite, `${flag} must be a number`);
const integer = (flag: string, min: number, max: number) =>
  number(flag).pipe(z.number().int(`${flag} must be an integer`).min(min).max(max));

/** The flags as commander hands them over (strings), checked and converted. */
const flagsSchema = z
  .object({
    vms: integer('--vms', 1, 100_000),
    tasks: integer('--tasks', 1, 10_000_000),
    load: number('--load').pipe(z.number().positive().max(10)),
    seed: integer('--seed', 0, 0xffffffff),
    meanDuration: number('--mean-duration').pipe(z.number().positive().max(86_400)),
    slackMin: number('--slack-min').pipe(z.number().min(0).max(100)),
    slackMax: number('--slack-max').pipe(z.number().min(0).max(100)),
    largeShare: number('--large-share').pipe(z.number().min(0).max(1)),
    backfill: number('--backfill').pipe(z.number().min(0).max(86_400)).optional(),
    nodes: z.string().min(1).optional(),
    pods: z.string().min(1).optional(),
    trace: z.union([z.literal(true), z.string().min(1)]).optional(),
    mode: z.enum(['live', 'saturate']),
    saturateAt: number('--saturate-at').pipe(z.number().positive().max(10)),
    pending: z.enum(['wait', 'reject']).optional(),
    algorithm: z.string().min(1),
    samples: integer('--samples', 1, 100_000),
    seeds: z
      .string()
      .trim()
      .regex(/^\d{1,10}(,\d{1,10}){0,99}$/, '--seeds must be a comma-separated list of up to 100 integers')
      .transform((list) => [...new Set(list.split(',').map(Number))])
      .refine((seeds) => seeds.every((n) => n <= 0xffffffff), '--seeds must each be at most 4294967295')
      .optional(),
    json: z.boolean().optional(),
  })
  .refine((f) => (f.nodes === undefined) === (f.pods === undefined), {
    path: ['pods'],
    message: '--nodes and --pods go together',
  })
  .refine((f) => f.slackMin <= f.slackMax, {
    path: ['slackMin'],
    message: '--slack-min must not exceed --slack-max',
  });

type Flags = z.output<typeof flagsSchema>;

function traceFiles(flags: Flags): { nodes: string; pods: string } | null {
  let files: { nodes: string; pods: string } | null = null;
  if (flags.nodes !== undefined && flags.pods !== undefined) {
    files = { nodes: flags.nodes, pods: flags.pods };
  } else if (flags.trace !== undefined) {
    const dir = flags.trace === true ? defaultTraceDir() : flags.trace;
    if (dir === null) {
      throw new ValidationError([
        { field: 'trace', message: 'no trace directory given and ../shared/traces not found' },
      ]);
    }
    files = { nodes: `${dir}/${OPENB_NODE_FILE}`, pods: `${dir}/${OPENB_POD_FILE}` };
  }
  return files;
}

function buildWorkload(
  flags: Flags,
  trace: { nodes: OpenbNode[]; pods: OpenbPod[] } | null,
): { workload: Workload; trace: boolean } {
  if (trace === null) {
    const { vms, tasks, load, seed, meanDuration, slackMin, slackMax, largeShare } = flags;
    return {
      workload: syntheticWorkload({ vms, tasks, load, seed, meanDuration, slackMin, slackMax, largeShare }),
      trace: false,
    };
  }
  const { nodes, pods } = trace;
  try {
    return {
      workload: openbWorkload(nodes, pods, { mode: flags.mode, saturateAt: flags.saturateAt }),
      trace: true,
    };
  } catch (error) {
    // A pod list without times (the multi-GPU variants) cannot be replayed live: say so as a usage error.
    if (error instanceof RangeError) throw new ValidationError([{ field: 'mode', message: error.message }]);
    throw error;
  }
}

const percent = (x: number | null | undefined) =>
  x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(1)}%`;

export function resultsTable(results: AlgorithmResult[]): string {
  const saturation = results.some((r) => r.allocated_share !== undefined);
  const devices = results.some((r) => r.gpu_devices !== undefined);
  const table = new Table({
    head: [
      'algorithm',
      'tasks',
      'placed',
      'rejected',
      'success',
      'imbalance CV',
      'deadlines met',
      'mean util',
      'fragmentation',
      ...(saturation ? ['allocated'] : []),
      ...(devices ? DEVICE_HEAD : []),
    ],
    style: { head: [] },
  });
  for (const r of results) {
    table.push([
      r.algorithm,
      r.tasks,
      r.placed,
      r.rejected,
      percent(r.success_rate),
      r.imbalance_cv.toFixed(3),
      percent(r.deadline_compliance),
      percent(r.mean_utilisation),
      percent(r.fragmentation),
      ...(saturation ? [percent(r.allocated_share)] : []),
      ...(devices ? deviceCells(r.gpu_devices) : []),
    ]);
  }
  return table.toString();
}

/** Per-device use columns: GPUs full / partly used / idle, and the GPU stranded on partly used ones. */
const DEVICE_HEAD = ['GPUs full/partial/idle', 'stranded'];

function deviceCells(use: GpuDeviceUse | undefined): string[] {
  if (use === undefined) return ['n/a', 'n/a'];
  return [`${use.full}/${use.partial}/${use.idle}`, `${(100 * use.stranded_share).toFixed(2)}%`];
}

export function saturationTable(results: SaturationResult[]): string {
  const table = new Table({
    head: [
      'algorithm',
      'tasks',
      'placed',
      'rejected',
      'allocated (mean)',
      'min - max',
      'stdev',
      ...DEVICE_HEAD,
      'seeds',
    ],
    style: { head: [] },
  });
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  for (const r of results) {
    table.push([
      r.algorithm,
      r.tasks,
      r.placed,
      r.rejected,
      pct(r.allocated_share),
      `${pct(r.allocated_share_min)} - ${pct(r.allocated_share_max)}`,
      `${(100 * r.allocated_share_stdev).toFixed(2)} pt`,
      ...deviceCells(r.gpu_devices),
      r.runs.length,
    ]);
  }
  return table.toString();
}

export function simulateCommand(): Command {
  return (
    new Command('simulate')
      .description(
        'Offline discrete-event simulation of the scheduler: a synthetic workload (--vms, --tasks, --load) or a replay of the Alibaba OpenB trace (--nodes and --pods, or --trace)',
      )
      .option('--vms <n>', 'synthetic: number of VMs', '100')
      .option('--tasks <n>', 'synthetic: number of tasks', '10000')
      .option('--load <x>', 'synthetic: offered load as a fraction of fleet capacity', '0.8')
      .option('--seed <n>', 'seed for the workload and randomised algorithms', '1')
      .option('--mean-duration <s>', 'synthetic: mean task duration, seconds', '300')
      .option('--slack-min <x>', 'synthetic: deadline = arrival + duration x (1 + slack), slack from', '0.5')
      .option('--slack-max <x>', 'synthetic: ... slack up to', '2')
      .option(
        '--large-share <x>',
        'synthetic: share of large tasks (50-90 % of the largest VM); reports wait per size',
        '0',
      )
      .option(
        '--backfill <seconds>',
        'EASY backfilling: a task pending this long reserves the VM it can start on earliest (default: off)',
      )
      .option('--nodes <file>', 'trace: OpenB node list CSV')
      .option('--pods <file>', 'trace: OpenB pod list CSV')
      .option(
        '--trace [dir]',
        `trace: directory holding ${OPENB_NODE_FILE} and ${OPENB_POD_FILE} (default ../shared/traces)`,
      )
      .option(
        '--mode <mode>',
        'trace: live (pods leave at deletion_time) or saturate (arrivals only)',
        'live',
      )
      .option(
        '--saturate-at <x>',
        `saturate: read the GPU allocation ratio when arrived GPU demand reaches this multiple of capacity (pods are sampled up to ${PAPER_INFLATION}x, or this if larger)`,
        '1',
      )
      .option(
        '--seeds <list>',
        `saturate: comma-separated sampling seeds, averaged (default ${PAPER_SEEDS[0]}-${PAPER_SEEDS[PAPER_SEEDS.length - 1]}, as the paper)`,
      )
      .option(
        '--pending <policy>',
        'unplaceable tasks wait for room until their deadline, or are rejected at once (default: wait for synthetic, reject for traces)',
      )
      .option('--algorithm <name>', 'algorithm to simulate, a comma-separated list, or "all"', 'all')
      .option('--samples <n>', 'instants at which fleet metrics are sampled', '200')
      .option(
        '--json',
        'print one JSON object {"results":[...]} (saturate: {"gpu_model":"device","results":[...]})',
      )
      // A ValidationError propagates to cli/main.ts, which prints it and exits with the usage code.
      .action((raw: Record<string, unknown>) => run(raw))
  );
}

function run(raw: Record<string, unknown>): void {
  const flags = parseOrThrow(flagsSchema, raw, 'invalid simulate options');
  const files = traceFiles(flags);
  const loaded = files === null ? null : loadOpenbTrace(files.nodes, files.pods);
  if (flags.seeds !== undefined && !(loaded !== null && flags.mode === 'saturate')) {
    throw new ValidationError([
      { field: 'seeds', message: '--seeds applies to trace replays in --mode saturate' },
    ]);
  }
  if (loaded !== null && flags.mode === 'saturate') {
    saturate(flags, loaded);
    return;
  }
  const { workload, trace } = buildWorkload(flags, loaded);
  const departures = !(trace && flags.mode === 'saturate');
  const pending = flags.pending ?? (trace ? 'reject' : 'wait');

  const bar =
    process.stderr.isTTY && !flags.json
      ? new cliProgress.SingleBar(
          {
            format: '{algorithm} [{bar}] {value}/{total} tasks',
            stream: process.stderr,
            clearOnComplete: true,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
  let current = '';
  const results = compareAlgorithms(workload, {
    algorithms: flags.algorithm.split(',').map((name) => name.trim()),
    pending,
    departures,
    seed: flags.seed,
    samples: flags.samples,
    ...(flags.backfill === undefined ? {} : { backfillSeconds: flags.backfill }),
    onProgress: (algorithm, arrived, total) => {
      if (bar === null) return;
      if (algorithm !== current) {
        if (current !== '') bar.stop();
        current = algorithm;
        bar.start(total, 0, { algorithm });
      }
      bar.update(arrived, { algorithm });
    },
  });
  bar?.stop();

  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ results })}\n`);
    return;
  }
  process.stdout.write(
    `${workload.name}; pending tasks ${pending === 'wait' ? 'wait until their latest start' : 'are rejected'}\n`,
  );
  process.stdout.write(`${resultsTable(results)}\n`);
  if (results.some((r) => r.by_class !== undefined)) process.stdout.write(`${classTable(results)}\n`);
}

/** Placement and p99 wait per task size (synthetic --large-share). */
function classTable(results: AlgorithmResult[]): string {
  const table = new Table({
    head: ['algorithm', 'size', 'tasks', 'placed', 'success', 'p99 wait (s)'],
    style: { head: [] },
  });
  for (const r of results) {
    for (const [size, c] of Object.entries(r.by_class ?? {})) {
      table.push([
        r.algorithm,
        size,
        c.tasks,
        c.placed,
        percent(c.success_rate),
        c.p99_wait_s?.toFixed(1) ?? '-',
      ]);
    }
  }
  return table.toString();
}

/**
 * The paper's saturation replay (lib/simulation/saturation.ts): GPUs as devices, pods sampled with
 * each seed up to 130 % of GPU capacity, the allocation ratio read at `--saturate-at` (100 %).
 */
function saturate(flags: Flags, trace: { nodes: OpenbNode[]; pods: OpenbPod[] }): void {
  const seeds = flags.seeds ?? PAPER_SEEDS;
  let results: SaturationResult[];
  try {
    results = saturationReplay(trace.nodes, trace.pods, {
      algorithms: flags.algorithm.split(',').map((name) => name.trim()),
      seeds,
      inflation: Math.max(PAPER_INFLATION, flags.saturateAt),
      reportAt: flags.saturateAt,
    });
  } catch (error) {
    if (error instanceof RangeError) throw new ValidationError([{ field: 'pods', message: error.message }]);
    throw error;
  }
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ gpu_model: 'device', results })}\n`);
    return;
  }
  process.stdout.write(
    `OpenB saturation replay: ${trace.nodes.length} nodes, GPUs as devices; allocation at ${flags.saturateAt * 100}% arrived GPU demand, seeds ${seeds.join(',')}\n`,
  );
  process.stdout.write(`${saturationTable(results)}\n`);
}
