import { randomUUID } from 'node:crypto';
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import type * as z from 'zod';
import { DEFAULT_DIMENSIONS, type Dimensions } from '../../lib/model/resources';
import { enqueueConfigAnswer, fleetCapacitiesAnswer, submitAnswer } from '../../lib/schemas/client';
import { seededRandom } from '../../lib/simulation/rng';
import { CliExit, EXIT_USAGE } from '../exit';
import { intOption } from '../options';
import { openRemote, type Remote, type RemoteFlags, withRemoteOptions } from '../remote';
import { readTaskFile, type TaskInputJson } from '../task-file';

interface EnqueueFlags extends RemoteFlags {
  file?: string;
  count?: number;
  batch: number;
  seed?: number;
  json?: boolean;
}

/**
 * The dimensions and a VM capacity: GET /config on the local runtime. The AWS API has no /config
 * (API Gateway answers 403 or 404 for a route it does not define), so there they come from GET /fleet:
 * the dimensions the instances report, the stack's defaults when the fleet is empty, and the
 * smallest instance's capacity.
 */
async function serverConfig(remote: Remote): Promise<z.output<typeof enqueueConfigAnswer>> {
  const answer = await remote.get('config', [403, 404]);
  if (answer.ok) return serverReply(enqueueConfigAnswer, await answer.json());
  await answer.body?.cancel();
  const fleet = serverReply(fleetCapacitiesAnswer, await (await remote.get('fleet')).json());
  const dimensions = [...new Set(fleet.vms.flatMap((vm) => Object.keys(vm.capacity)))];
  if (dimensions.length === 0) return { dimensions: [...DEFAULT_DIMENSIONS] };
  const capacity: Record<string, number> = {};
  for (const d of dimensions) capacity[d] = Math.min(...fleet.vms.map((vm) => vm.capacity[d] ?? 0));
  return { dimensions, fleet: { capacity } };
}

function serverReply<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new CliExit(EXIT_USAGE, `unexpected answer from the server: ${parsed.error.message}`);
  return parsed.data;
}

/** How often a request refused with 429/503 is tried again before giving up. */
const MAX_RETRIES = 50;

export function enqueueCommand(): Command {
  return withRemoteOptions(
    new Command('enqueue').description(
      'submit tasks to the local runtime or a deployed stack (--url or --stack), 100 per request by default',
    ),
  )
    .option('--file <file>', 'JSON array or JSON Lines of tasks (validated before anything is sent)')
    .option('--count <n>', 'submit n generated tasks', intOption)
    .option('--batch <n>', 'tasks per request (1-1000)', intOption, 100)
    .option('--seed <n>', 'seed for generated tasks', intOption)
    .option('--json', 'print the summary as JSON')
    .action(async (flags: EnqueueFlags) => {
      if ((flags.url === undefined) === (flags.stack === undefined)) {
        throw new CliExit(EXIT_USAGE, 'give exactly one of --url, --stack');
      }
      if ((flags.file === undefined) === (flags.count === undefined)) {
        throw new CliExit(EXIT_USAGE, 'give exactly one of --file, --count');
      }
      if (flags.batch < 1 || flags.batch > 1000) throw new CliExit(EXIT_USAGE, '--batch must be 1-1000');
      if (flags.count !== undefined && flags.count < 1) throw new CliExit(EXIT_USAGE, '--count must be >= 1');
      // BCS_TOKEN is the local runtime's; it does not count against --api-key or --aws-sigv4.
      const aws = flags.apiKey !== undefined || flags.awsSigv4 !== undefined;
      const token = flags.token ?? (aws ? undefined : process.env.BCS_TOKEN || undefined);
      const remote = await openRemote({ ...flags, ...(token === undefined ? {} : { token }) });
      const config = await serverConfig(remote);
      const tasks =
        flags.file !== undefined
          ? await readTaskFile(flags.file, config.dimensions)
          : generatedTasks(
              flags.count!,
              config.dimensions,
              config.fleet?.capacity ?? {},
              flags.seed ?? Date.now(),
            );
      const summary = await submitAll(remote, tasks, flags.batch, flags.json !== true);
      console.log(
        flags.json
          ? JSON.stringify(summary)
          : `accepted ${summary.accepted}, duplicates ${summary.duplicates}, ${summary.requests} requests in ${summary.seconds.toFixed(2)} s (${Math.round(summary.tasks_per_s)} tasks/s)`,
      );
    });
}

interface Summary {
  accepted: number;
  duplicates: number;
  requests: number;
  retries: number;
  seconds: number;
  tasks_per_s: number;
}

async function submitAll(
  remote: Remote,
  tasks: TaskInputJson[],
  batch: number,
  interactive: boolean,
): Promise<Summary> {
  const bar = interactive && process.stderr.isTTY ? new SingleBar({ stream: process.stderr }) : null;
  bar?.start(tasks.length, 0);
  const started = performance.now();
  const summary: Summary = {
    accepted: 0,
    duplicates: 0,
    requests: 0,
    retries: 0,
    seconds: 0,
    tasks_per_s: 0,
  };
  try {
    for (let i = 0; i < tasks.length; i += batch) {
      const body = JSON.stringify(tasks.slice(i, i + batch));
      for (let attempt = 0; ; attempt++) {
        // Relative to the base, so that an API Gateway stage prefix is kept.
        const response = await remote.send('POST', 'tasks', { body, accept: [429, 503] });
        summary.requests += 1;
        if ((response.status === 429 || response.status === 503) && attempt < MAX_RETRIES) {
          summary.retries += 1;
          const wait = Number(response.headers.get('retry-after') ?? '1');
          await new Promise((r) => setTimeout(r, (Number.isFinite(wait) ? wait : 1) * 1000));
          continue;
        }
        if (response.status !== 202) {
          throw new CliExit(EXIT_USAGE, `POST /tasks: HTTP ${response.status} ${await response.text()}`);
        }
        const result = serverReply(submitAnswer, await response.json());
        summary.accepted += result.accepted.length;
        summary.duplicates += result.duplicates.length;
        break;
      }
      bar?.update(Math.min(tasks.length, i + batch));
    }
  } finally {
    bar?.stop();
  }
  summary.seconds = (performance.now() - started) / 1000;
  summary.tasks_per_s = summary.seconds > 0 ? tasks.length / summary.seconds : 0;
  return summary;
}

/** Small tasks (1-10 % of a VM per dimension) with deadlines minutes away. */
function generatedTasks(
  count: number,
  dimensions: Dimensions,
  capacity: Record<string, number>,
  seed: number,
): TaskInputJson[] {
  const random = seededRandom(seed);
  const run = randomUUID().slice(0, 8);
  const now = Math.floor(Date.now() / 1000);
  return Array.from({ length: count }, (_, i) => {
    const task: TaskInputJson = { id: `enq-${run}-${i + 1}` };
    for (const d of dimensions) {
      const c = capacity[d] ?? 0;
      if (c > 0) task[d] = Math.max(1, Math.round(c * random.uniform(0.01, 0.1)));
    }
    if (!dimensions.some((d) => typeof task[d] === 'number')) task[dimensions[0]!] = 1;
    const duration = Math.round(random.uniform(10, 300));
    task.duration = duration;
    task.deadline = now + duration + Math.round(random.uniform(60, 3600));
    return task;
  });
}
