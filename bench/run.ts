import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import * as z from 'zod';
import { parseOrThrow } from '../lib/errors';
import type { EmbeddedFigures } from './embedded';
import type { EmulatorFigures } from './emulator';
import type { ScalingRow } from './emulator-scaling';
import type { LambdaBundleFigures } from './lambda-bundles';
import type { LedgerFigures } from './ledger';
import type { LedgerScaleRow } from './ledger-scale';
import type { PlacementRow } from './placement';

/**
 * `npm run bench [-- --quick] [-- --json] [-- --only placement,ledger,ledger-scale,embedded,emulator,lambda] [-- --out FILE]`
 *
 * Prints one JSON object with --json, tables otherwise, and always writes the JSON to --out
 * (default bench/results/latest.json, git-ignored) for bench/charts.ts and docs/performance.md.
 * With --only, the sections not run are kept from an existing --out file, so one section can be
 * re-measured without re-running the others.
 */

const SECTIONS = ['placement', 'ledger', 'ledger-scale', 'embedded', 'emulator', 'lambda'] as const;
/** Report keys are snake_case: section ledger-scale is report.ledger_scale. */
const KEY = (section: (typeof SECTIONS)[number]) => section.replace('-', '_') as keyof BenchReport;

const argsSchema = z.object({
  json: z.boolean().default(false),
  quick: z.boolean().default(false),
  only: z
    .string()
    .default(SECTIONS.join(','))
    .transform((s) => s.split(',').map((x) => x.trim()))
    .pipe(z.array(z.enum(SECTIONS)).min(1)),
  out: z.string().min(1).default('bench/results/latest.json'),
});

export interface BenchReport {
  placement: PlacementRow[] | null;
  ledger: LedgerFigures | null;
  /** Per store and chain height (bench/ledger-scale.ts); null when not run. */
  ledger_scale: LedgerScaleRow[] | null;
  embedded: EmbeddedFigures | { tasks_per_s: null; p50_ms: null; p99_ms: null; reason: string } | null;
  emulator: (
    | EmulatorFigures
    | { decisions_per_dynamodb_request: null; speedup_vs_one_block_per_task: null; reason: string }
  ) & {
    /** One chain's decisions per second and head conflicts at 1, 2, 4 and 8 concurrent schedulers. */
    scaling?: ScalingRow[] | { reason: string };
  };
  /** Lambda bundles: size, heaviest packages, import time, estimated init on AWS, first invoke on the emulator. */
  lambda: LambdaBundleFigures | { functions: null; reason: string } | null;
  environment: { node: string; cpus: number; load_average_1m: number; quick: boolean; date: string };
}

const EMULATOR_REASON = 'not measured in this run (run with --only emulator, or without --only)';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean' },
      quick: { type: 'boolean' },
      only: { type: 'string' },
      out: { type: 'string' },
    },
    strict: true,
  });
  const args = parseOrThrow(argsSchema, values, 'invalid bench options');
  const log = (line: string) => {
    if (!args.json) process.stdout.write(`${line}\n`);
    else process.stderr.write(`${line}\n`);
  };
  const os = await import('node:os');
  const report: BenchReport = {
    placement: null,
    ledger: null,
    ledger_scale: null,
    embedded: null,
    emulator: {
      decisions_per_dynamodb_request: null,
      speedup_vs_one_block_per_task: null,
      reason: EMULATOR_REASON,
    },
    lambda: null,
    environment: {
      node: process.version,
      cpus: os.cpus().length,
      load_average_1m: os.loadavg()[0]!,
      quick: args.quick,
      date: new Date().toISOString(),
    },
  };

  if (args.only.includes('placement')) {
    log('placement: every algorithm at 100, 1000 and 10000 VMs, batches of 1 and 100 ...');
    // Sections are imported when run, so one section's modules cannot stop another from running.
    const { benchPlacementIsolated } = await import('./placement');
    report.placement = benchPlacementIsolated({
      fleets: [100, 1000, 10_000],
      batches: [1, 100],
      runs: args.quick ? 3 : 5,
      budget: args.quick ? 200_000 : 2_000_000,
    });
  }
  if (args.only.includes('ledger')) {
    const transactions = args.quick ? 20_000 : 1_000_000;
    log(`ledger: build, export and verify a chain of ${transactions} transactions ...`);
    const { benchLedger } = await import('./ledger');
    report.ledger = await benchLedger({ transactions, runs: 3 });
  }
  if (args.only.includes('ledger-scale')) {
    const sizes = args.quick ? [10_000, 30_000] : [10_000, 100_000, 1_000_000];
    const dynamoDbSizes = args.quick ? [10_000] : [10_000, 100_000];
    log(
      `ledger-scale: memory and SQLite at ${sizes.join(', ')} blocks, DynamoDB (MiniStack) at ${dynamoDbSizes.join(', ')}, one process per case ...`,
    );
    const { benchLedgerScale } = await import('./ledger-scale');
    report.ledger_scale = await benchLedgerScale({ sizes, dynamoDbSizes, log });
  }
  if (args.only.includes('embedded')) {
    log('embedded: the local runtime under a separate load generator ...');
    const { benchEmbedded } = await import('./embedded');
    report.embedded = await benchEmbedded({ quick: args.quick, log });
  }

  if (args.only.includes('emulator')) {
    log('emulator: one chain against 1, 2, 4 and 8 concurrent schedulers (engines on MiniStack) ...');
    const { benchEmulatorScaling } = await import('./emulator-scaling');
    let scaling: ScalingRow[] | { reason: string };
    try {
      scaling = await benchEmulatorScaling({ counts: [1, 2, 4, 8], tasks: args.quick ? 300 : 2000, log });
    } catch (error) {
      scaling = {
        reason: `not measured: ${error instanceof Error ? error.message : String(error)}`.slice(0, 2000),
      };
      log(`emulator scaling: ${scaling.reason}`);
    }
    log('emulator: the deployed stack on MiniStack, batched and one block per task ...');
    const { benchEmulator } = await import('./emulator');
    try {
      report.emulator = { ...(await benchEmulator({ quick: args.quick, log })), scaling };
    } catch (error) {
      // The emulator and CDK are outside this process; a failure there is reported, not estimated.
      const reason = `not measured: ${error instanceof Error ? error.message : String(error)}`.slice(0, 2000);
      log(`emulator: ${reason}`);
      report.emulator = {
        decisions_per_dynamodb_request: null,
        speedup_vs_one_block_per_task: null,
        reason,
        scaling,
      };
    }
  }

  if (args.only.includes('lambda')) {
    log(
      'lambda: every function bundled as the stack bundles it; size, import time, first invoke on the emulator ...',
    );
    const { benchLambdaBundles } = await import('./lambda-bundles');
    try {
      report.lambda = await benchLambdaBundles({ processes: args.quick ? 3 : 7, emulator: !args.quick, log });
    } catch (error) {
      const reason = `not measured: ${error instanceof Error ? error.message : String(error)}`.slice(0, 2000);
      log(`lambda: ${reason}`);
      report.lambda = { functions: null, reason };
    }
  }

  if (args.only.length < SECTIONS.length && existsSync(args.out)) {
    const previous = JSON.parse(readFileSync(args.out, 'utf8')) as Partial<BenchReport>;
    for (const section of SECTIONS) {
      if (!args.only.includes(section) && previous[KEY(section)] !== undefined) {
        Object.assign(report, { [KEY(section)]: previous[KEY(section)] });
      }
    }
  }
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
  if (args.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    const { formatReport } = await import('./format');
    process.stdout.write(`${formatReport(report)}\nwritten to ${args.out}\n`);
  }
}

await main();
