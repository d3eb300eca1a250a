import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import Table from 'cli-table3';
import * as z from 'zod';
import { round, type Spread, spread } from '../../bench/stats';
import { parseOrThrow } from '../../lib/errors';
import { createLedgerTable } from '../../tests/aws/helpers/ledger-table';
import { startServer } from '../../tests/local/helpers/server';
import { freePort } from '../emulator/free-port';
import { runSchemathesis } from '../fuzz/schemathesis';
import { auditFailures } from './audit';
import { runDynamoSwarm } from './dynamodb-swarm';
import { DEFAULT_SETTINGS, type RunSettings } from './settings';
import { runSqliteSwarm } from './sqlite-swarm';
import { type SwarmSummary, summarise } from './swarm-result';

/**
 * `npm run reliability [-- --store sqlite,dynamodb] [-- --tasks 10000] [-- --runs 3] [-- --out FILE]
 *  [-- --schemathesis 50]`
 *
 * Many schedulers on one chain, full size: each store `--runs` times, every run audited. Prints a
 * table of medians with the spread (lowest and highest run) and writes every run's summary as JSON
 * to --out. DynamoDB runs on LOCALSTACK_ENDPOINT if set, else on a MiniStack started here on a free
 * port and stopped after. Exits 1 if any audit finds a fork, a lost or twice-recorded task, or a VM
 * over capacity. Then Schemathesis fuzzes a local server through its /openapi.json, without and with a
 * token, `--schemathesis` examples per operation and phase with a random seed (0 skips it; the suite
 * runs 5 with a fixed seed); any failure it reports, or a chain that no longer verifies, fails the run.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const STORES = ['sqlite', 'dynamodb'] as const;
const run = promisify(execFile);

const argsSchema = z.object({
  store: z
    .string()
    .default(STORES.join(','))
    .transform((s) => s.split(',').map((x) => x.trim()))
    .pipe(z.array(z.enum(STORES)).min(1)),
  tasks: z.coerce.number().int().min(1).max(1_000_000).default(DEFAULT_SETTINGS.tasks),
  schedulers: z.coerce.number().int().min(1).max(64).default(DEFAULT_SETTINGS.schedulers),
  runs: z.coerce.number().int().min(1).max(20).default(3),
  out: z.string().min(1).default('scripts/reliability/results.json'),
  schemathesis: z.coerce.number().int().min(0).max(10_000).default(50),
});

/** The columns of the table, from each run's summary. */
const FIGURES: (keyof SwarmSummary)[] = [
  'seconds',
  'tasks_per_s',
  'blocks',
  'conflicts_per_block',
  'attempts_mean',
  'attempts_max',
  'exhausted',
  'duplicates_reported',
  'forks',
  'lost',
  'recorded_twice',
  'over_capacity',
  'stale_decisions',
  'reservations_read_ms_empty',
  'reservations_read_ms_full',
];

/** The emulator to use, and how to stop it if this process started it. */
async function emulator(log: (line: string) => void): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const external = process.env.LOCALSTACK_ENDPOINT?.replace(/\/+$/, '');
  if (external) return { endpoint: external, stop: async () => {} };
  const port = await freePort();
  log(`starting MiniStack on 127.0.0.1:${port} ...`);
  const { stdout } = await run(join(ROOT, 'scripts/emulator/start.sh'), [String(port)], { timeout: 300_000 });
  return {
    endpoint: stdout.trim().split('\n').at(-1)!,
    stop: async () => {
      await run(join(ROOT, 'scripts/emulator/stop.sh'), [String(port)], { timeout: 60_000 });
    },
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      store: { type: 'string' },
      tasks: { type: 'string' },
      schedulers: { type: 'string' },
      runs: { type: 'string' },
      out: { type: 'string' },
      schemathesis: { type: 'string' },
    },
    strict: true,
  });
  const args = parseOrThrow(argsSchema, values, 'invalid reliability options');
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const summaries: SwarmSummary[] = [];
  const failures: string[] = [];
  const settingsFor = (r: number): RunSettings => ({
    ...DEFAULT_SETTINGS,
    tasks: args.tasks,
    schedulers: args.schedulers,
    seed: DEFAULT_SETTINGS.seed + r,
    startedAt: Date.now(),
  });
  const record = (summary: SwarmSummary, found: string[]) => {
    summaries.push(summary);
    failures.push(...found.map((f) => `${summary.store}: ${f}`));
    log(`${summary.store}: ${JSON.stringify(summary)}`);
  };

  if (args.store.includes('sqlite')) {
    for (let r = 0; r < args.runs; r++) {
      log(`sqlite run ${r + 1}/${args.runs}: ${args.schedulers} processes, ${args.tasks} tasks ...`);
      const result = await runSqliteSwarm(settingsFor(r));
      record(summarise(result), auditFailures(result.audit));
    }
  }
  if (args.store.includes('dynamodb')) {
    const emu = await emulator(log);
    const config = {
      endpoint: emu.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    };
    const admin = new DynamoDBClient(config);
    try {
      for (let r = 0; r < args.runs; r++) {
        log(
          `dynamodb run ${r + 1}/${args.runs}: ${args.schedulers} engines, ${args.tasks} tasks on ${emu.endpoint} ...`,
        );
        const table = await createLedgerTable(admin);
        try {
          const result = await runDynamoSwarm(settingsFor(r), {
            client: () => new DynamoDBClient(config),
            tableName: table.tableName,
            progress: (line) => log(`dynamodb run ${r + 1}: ${line}`),
          });
          record(summarise(result), auditFailures(result.audit));
        } finally {
          await table.drop();
        }
      }
    } finally {
      admin.destroy();
      await emu.stop();
    }
  }

  if (args.schemathesis > 0) failures.push(...(await fuzzLocalApi(args.schemathesis, log)));

  // A shared machine's load colours every figure: it goes into the results beside them.
  const environment = { node: process.version, cpus: cpus().length, load_average_1m: loadavg()[0] };
  writeFileSync(args.out, `${JSON.stringify({ runs: summaries, failures, environment }, null, 2)}\n`);
  const table = new Table({ head: ['figure', ...args.store.map((s) => `${s} median [min, max]`)] });
  for (const figure of FIGURES) {
    table.push([
      figure,
      ...args.store.map((store) =>
        show(
          summaries
            .filter((s) => s.store === store)
            .map((s) => s[figure])
            .filter((v): v is number => typeof v === 'number'),
        ),
      ),
    ]);
  }
  process.stdout.write(`${table.toString()}\n`);
  process.stdout.write(
    `${args.runs} run(s) per store, ${args.schedulers} schedulers, ${args.tasks} tasks; JSON in ${args.out}\n`,
  );
  if (failures.length > 0) {
    for (const f of failures) log(`AUDIT FAILED ${f}`);
    return 1;
  }
  return 0;
}

/** Schemathesis against a fresh local server, without and with a bearer token; the failures found. */
async function fuzzLocalApi(examples: number, log: (line: string) => void): Promise<string[]> {
  const failures: string[] = [];
  for (const token of [undefined, 'reliability-token-0123456789']) {
    const label = `schemathesis (${token ? 'with' : 'without'} a token, ${examples} examples)`;
    log(`${label} ...`);
    const server = await startServer({
      config: { fleet: { size: 4 }, max_queue_depth: 100_000 },
      ...(token ? { env: { BCS_TOKEN: token } } : {}),
    });
    try {
      const result = await runSchemathesis({
        url: server.url,
        maxExamples: examples,
        ...(token ? { token } : {}),
      });
      log(result.output.split('\n').slice(-25).join('\n'));
      if (result.code !== 0) failures.push(`${label}: exit ${result.code}`);
      const verify = (await (await fetch(`${server.url}/ledger/verify`, { method: 'POST' })).json()) as {
        valid?: boolean;
      };
      if (verify.valid !== true) failures.push(`${label}: the chain no longer verifies`);
    } finally {
      await server.stop();
    }
  }
  return failures;
}

function show(values: number[]): string {
  if (values.length === 0) return '-';
  const s: Spread = spread(values);
  return `${round(s.median)} [${round(s.min)}, ${round(s.max)}]`;
}

process.exitCode = await main();
