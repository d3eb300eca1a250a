import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandExecutor, SimulatedExecutor } from '../../agent/executor';
import { AgentHttp } from '../../agent/http';
import { HttpSchedulerApi } from '../../agent/scheduler-api';
import { PermanentError } from '../../lib/ports/assignment-source';
import { assignment } from '../unit/agent/fakes';
import {
  BCS,
  eventually,
  postJson,
  REPO,
  type RunningServer,
  runCli,
  startServer,
  task,
} from './helpers/server';

const TOKEN = 'agent-test-token-5f1c';
const auth = { authorization: `Bearer ${TOKEN}` };

let server: RunningServer;
let agentVm: string;

interface FeedItem {
  task_id: string;
  transaction_id: string;
  block_height: number;
  command: string | null;
  duration: number;
}

async function getJson<T = Record<string, unknown>>(
  path: string,
  headers: Record<string, string> = auth,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${server.url}${path}`, { headers });
  return { status: response.status, body: (await response.json()) as T };
}

async function height(): Promise<number> {
  return (await getJson<{ height: number }>('/ledger')).body.height;
}

async function status(id: string): Promise<string> {
  return (await getJson<{ status: string }>(`/tasks/${id}`)).body.status;
}

/** Every transaction in the chain, from the export (one canonical block per line). */
async function transactions(): Promise<{ task_id: string; status: string; outcome?: unknown }[]> {
  const text = await (await fetch(`${server.url}/ledger/export`)).text();
  return text
    .trim()
    .split('\n')
    .flatMap(
      (line) => JSON.parse(line).transactions as { task_id: string; status: string; outcome?: unknown }[],
    );
}

function agentArgs(...extra: string[]): string[] {
  return ['agent', '--url', server.url, '--vm', agentVm, '--token', TOKEN, '--speed', '1000', ...extra];
}

/** `bcs agent` stderr, one JSON object per line (anything else fails the parse, so the test). */
function logLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}

beforeAll(async () => {
  // A fast simulation: a simulated VM finishes a 1 s task within a tick, an agent VM never does.
  server = await startServer({ args: ['--token', TOKEN, '--vms', '1', '--speed', '1000', '--seed', '7'] });
  const added = await postJson(
    `${server.url}/fleet/vms`,
    { count: 1, managed: 'agent', labels: { agent: 'a1' } },
    auth,
  );
  expect(added.status).toBe(201);
  agentVm = ((await added.json()) as { added: string[] }).added[0]!;
});

afterAll(async () => {
  expect(await server?.stop()).toBe(0);
});

describe('assignment feed', () => {
  it('needs the token, names bad parameters and 404s an unknown VM', async () => {
    expect((await getJson(`/vms/${agentVm}/assignments`, {})).status).toBe(401);
    const tooLong = await getJson<{ issues: { field: string }[] }>(`/vms/${agentVm}/assignments?wait=31`);
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.issues.map((i) => i.field)).toEqual(['wait']);
    expect((await getJson('/vms/no-such-vm/assignments')).status).toBe(404);
    const simulated = await getJson('/vms/vm-001/assignments');
    expect(simulated.body).toEqual({ vm_id: 'vm-001', managed: 'simulation', height: -1, assignments: [] });
  });

  it('a long poll answers with the assignment a new block made', async () => {
    const before = await height();
    const poll = getJson<{ assignments: FeedItem[] }>(`/vms/${agentVm}/assignments?wait=30&since=${before}`);
    await postJson(`${server.url}/tasks`, task('lp-1', { duration: 1, constraints: { agent: 'a1' } }), auth);
    const { status: code, body } = await poll;
    expect(code).toBe(200);
    const item = body.assignments.find((a) => a.task_id === 'lp-1');
    expect(item).toMatchObject({ command: null, duration: 1 });
    expect(item!.block_height).toBeGreaterThan(before);
    const ledgerView = await getJson<{ transaction_id: string }>('/tasks/lp-1');
    expect(item!.transaction_id).toBe(ledgerView.body.transaction_id);
  });
});

describe('bcs agent against the local runtime', () => {
  const ids = ['ag-1', 'ag-2', 'ag-3', 'ag-4'];

  it('runs every task of its VM once; the simulation completes none of them', async () => {
    const onAgent = { duration: 1, constraints: { agent: 'a1' } };
    await postJson(
      `${server.url}/tasks`,
      [
        task('ag-1', { ...onAgent, command: 'echo hi' }),
        task('ag-2', { ...onAgent, command: 'printf "%s" "$BCS_TASK_ID"; exit 3' }),
        task('ag-3', onAgent),
        task('ag-4', onAgent),
        task('control', { duration: 1, constraints: { pool: 'simulated' } }),
      ],
      auth,
    );
    // The simulated VM's task of the same length completing means a fleet tick has passed them.
    await eventually(async () => ((await status('control')) === 'completed' ? true : undefined), 'control');
    for (const id of [...ids, 'lp-1']) expect(await status(id)).toBe('assigned');

    const run = await runCli(agentArgs('--once', '--allow-commands', '--concurrency', '2'));
    expect(run.stderr).not.toContain(TOKEN);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ started: 5, completed: 5, unreported: 0 });
    const lines = logLines(run.stderr);
    const ended = new Map(lines.filter((l) => l.msg === 'task ended').map((l) => [l.task_id, l]));
    expect(ended.get('ag-1')).toMatchObject({ outcome: 'exited', exit_code: 0, output: 'hi\n' });
    expect(ended.get('ag-2')).toMatchObject({ outcome: 'exited', exit_code: 3, output: 'ag-2' });
    expect(ended.get('ag-3')).toMatchObject({ outcome: 'simulated' });
    for (const l of lines.filter((l) => l.task_id !== undefined))
      expect(l.transaction_id).toEqual(expect.any(String));

    const all = await transactions();
    for (const id of [...ids, 'lp-1']) {
      // ag-2 exited 3: its closing is failed, with the outcome the agent measured (ledger format 3).
      const closing = id === 'ag-2' ? 'failed' : 'completed';
      expect(all.filter((t) => t.task_id === id).map((t) => t.status)).toEqual(['assigned', closing]);
    }
    const outcomeOf = (id: string) =>
      all.find((t) => t.task_id === id && t.status !== 'assigned')?.outcome as Record<string, unknown>;
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    expect(outcomeOf('ag-1')).toMatchObject({ exit_code: 0, signal: null, output_sha256: sha('hi\n') });
    expect(outcomeOf('ag-2')).toMatchObject({ exit_code: 3, signal: null, output_sha256: sha('ag-2') });
    expect(outcomeOf('ag-3')).toMatchObject({ exit_code: 0, output_sha256: sha('') });
    expect(outcomeOf('ag-2').duration_ms).toEqual(expect.any(Number));
  });

  it('a duplicate completion and a restarted agent change nothing', async () => {
    const before = await height();
    const repeat = await postJson(`${server.url}/tasks/ag-1/complete`, {}, auth);
    expect(await repeat.json()).toMatchObject({ status: 'already-final', task_status: 'completed' });
    const again = await runCli(agentArgs('--once', '--allow-commands'));
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ started: 0, completed: 0 });
    expect(await height()).toBe(before);
    const verify = await postJson(`${server.url}/ledger/verify`, {});
    expect(await verify.json()).toMatchObject({ valid: true });
  });

  it('on SIGTERM finishes and reports the task it is running, then exits 0', async () => {
    const child = spawn(process.execPath, [BCS, ...agentArgs('--speed', '1', '--wait', '30')], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await eventually(async () => (stderr.includes('agent started') ? true : undefined), 'agent start');
    await postJson(
      `${server.url}/tasks`,
      task('term-1', { duration: 1, constraints: { agent: 'a1' } }),
      auth,
    );
    await eventually(async () => (stderr.includes('"task started"') ? true : undefined), 'task start');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ started: 1, completed: 1 });
    expect(await status('term-1')).toBe('completed');
  });

  it('a wrong token is a permanent refusal that does not echo the token', async () => {
    const api = new HttpSchedulerApi(new AgentHttp({ url: server.url, token: 'wrong-token-abc' }));
    const error = await api.complete('ag-1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).status).toBe(401);
    expect((error as Error).message).not.toContain('wrong-token-abc');
  });
});

/** No such process, or a zombie nobody has reaped yet (a container's PID 1 may never reap it). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
}

describe('CommandExecutor', () => {
  const simulated = new SimulatedExecutor(1);
  const live = new AbortController().signal;

  it('keeps at most the configured output', async () => {
    const executor = new CommandExecutor(simulated, { maxOutputBytes: 1000 });
    const outcome = await executor.run(assignment(1, { command: 'head -c 100000 /dev/zero | tr "\\0" x' }), {
      budgetMs: 30_000,
      abort: live,
    });
    expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0, truncated: true });
    expect(outcome.kind === 'exited' && outcome.output).toBe('x'.repeat(1000));
  });

  it('kills the whole process group at the lease end', async () => {
    const executor = new CommandExecutor(simulated, { killGraceMs: 200 });
    const outcome = await executor.run(assignment(1, { command: 'sleep 30 & echo $!; wait' }), {
      budgetMs: 300,
      abort: live,
    });
    expect(outcome.kind).toBe('timed-out');
    const pid = Number(outcome.kind === 'timed-out' ? outcome.output.trim() : Number.NaN);
    expect(Number.isInteger(pid)).toBe(true);
    // The signal is delivered; the process may still be on its way out when the shell's pipes close.
    await eventually(async () => (gone(pid) ? true : undefined), `pid ${pid} to exit`, 50);
  });

  it('does not pass the token on to the command', async () => {
    process.env.BCS_TOKEN = 'secret-in-env';
    try {
      const outcome = await new CommandExecutor(simulated).run(
        assignment(1, { command: 'if env | grep -q ^BCS_TOKEN=; then echo present; else echo absent; fi' }),
        { budgetMs: 30_000, abort: live },
      );
      expect(outcome).toMatchObject({ kind: 'exited', output: 'absent\n' });
    } finally {
      delete process.env.BCS_TOKEN;
    }
  });
});
