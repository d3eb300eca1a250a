import { describe, expect, it } from 'vitest';
import { Agent, type AgentOptions } from '../../../agent/agent';
import { type Executor, SimulatedExecutor } from '../../../agent/executor';
import type { Assignment, AssignmentSource } from '../../../lib/ports/assignment-source';
import { PermanentError, TransientError } from '../../../lib/ports/assignment-source';
import {
  assignment,
  ControlledExecutor,
  clockAt,
  FakeApi,
  fakeSleep,
  memoryLog,
  ScriptedSource,
  settle,
  T0,
} from './fakes';

function build(
  source: AssignmentSource,
  api: FakeApi,
  executor: Executor,
  options: Partial<AgentOptions> = {},
) {
  const clock = clockAt();
  const sleep = fakeSleep(clock);
  const log = memoryLog();
  const agent = new Agent({
    vmId: 'vm-1',
    source,
    api,
    executor,
    clock,
    sleep,
    log,
    concurrency: 4,
    waitS: 20,
    once: true,
    ...options,
  });
  return { agent, clock, sleep, log };
}

/** A source that lists, after the scripted listings, whatever the fake ledger still holds as assigned. */
function ledgerSource(api: FakeApi, all: Assignment[], script: Assignment[][] = []) {
  return new ScriptedSource(script, () => api.open(all));
}

describe('Agent', () => {
  it('runs each assignment once although the source lists it again, even twice in one listing', async () => {
    const all = [assignment(1), assignment(2)];
    const api = new FakeApi();
    api.assign(...all);
    const executor = new ControlledExecutor();
    const [a1, a2] = all as [Assignment, Assignment];
    const { agent } = build(
      ledgerSource(api, all, [
        [a1, a1, a2],
        [a2, a1],
      ]),
      api,
      executor,
    );

    const summary = await agent.run();

    expect(executor.runs.sort()).toEqual(['tx1', 'tx2']);
    expect(api.completions.sort()).toEqual(['t1', 't2']);
    expect(summary).toMatchObject({ started: 2, completed: 2, skipped: 0, unreported: 0 });
  });

  it('skips what the ledger no longer holds under that transaction (a restarted agent, a reassigned task)', async () => {
    const all = [assignment(1), assignment(2), assignment(3)];
    const api = new FakeApi();
    api.assign(...all);
    api.states.set('t1', { status: 'completed', transactionId: 'later' });
    api.states.set('t3', { status: 'assigned', transactionId: 'tx3-reassigned' });
    const executor = new ControlledExecutor();
    const { agent, log } = build(new ScriptedSource([all]), api, executor);

    const summary = await agent.run();

    expect(executor.runs).toEqual(['tx2']);
    expect(api.completions).toEqual(['t2']);
    expect(summary).toMatchObject({ started: 1, completed: 1, skipped: 2 });
    const skipped = log.lines.filter((l) => l.msg.startsWith('task skipped'));
    expect(skipped.map((l) => l.fields.task_id).sort()).toEqual(['t1', 't3']);
  });

  it('does not run an assignment whose lease is already over', async () => {
    const late = assignment(1, { leaseExpiresAt: T0 - 1 });
    const api = new FakeApi();
    api.assign(late);
    const executor = new ControlledExecutor();
    const { agent } = build(new ScriptedSource([[late]]), api, executor);

    expect(await agent.run()).toMatchObject({ started: 0, skipped: 1 });
    expect(executor.runs).toEqual([]);
    expect(api.completions).toEqual([]);
  });

  it('runs at most --concurrency at once and works through a backlog without waiting on the long poll', async () => {
    const all = [1, 2, 3, 4, 5].map((n) => assignment(n));
    const api = new FakeApi();
    api.assign(...all);
    const executor = new ControlledExecutor(null);
    const source = ledgerSource(api, all);
    const { agent } = build(source, api, executor, { concurrency: 2 });

    const run = agent.run();
    for (let i = 0; i < 10 && executor.runs.length < all.length; i++) {
      await settle();
      for (const id of executor.running) executor.finish(id);
    }
    const summary = await run;

    expect(executor.maxConcurrent).toBe(2);
    expect(executor.runs).toEqual(['tx1', 'tx2', 'tx3', 'tx4', 'tx5']);
    expect(summary.completed).toBe(5);
    expect(source.requests.every((r) => r.waitS === 0)).toBe(true);
  });

  it('long-polls above the highest block seen, and runs a listed backlog without asking again', async () => {
    const all = [assignment(3), assignment(5), assignment(4)];
    const api = new FakeApi();
    api.assign(...all);
    const executor = new ControlledExecutor(null);
    const source = ledgerSource(api, all, [all]);
    const { agent } = build(source, api, executor, { concurrency: 2, once: false });

    const run = agent.run();
    await settle();
    expect(executor.running).toEqual(['tx3', 'tx5']);
    executor.finish('tx3');
    await settle();
    // The third listed assignment took the free slot without another request.
    expect(executor.running).toEqual(['tx5', 'tx4']);
    expect(source.requests).toHaveLength(1);
    for (const id of executor.running) executor.finish(id);
    await settle();
    agent.stop();
    await run;

    expect(source.requests).toEqual([
      { since: -1, waitS: 20 },
      { since: 5, waitS: 20 },
    ]);
    expect(executor.runs).toEqual(['tx3', 'tx5', 'tx4']);
  });

  it('on stop takes no new work and reports what is running', async () => {
    const all = [assignment(1), assignment(2)];
    const api = new FakeApi();
    api.assign(...all);
    const executor = new ControlledExecutor(null);
    const { agent } = build(ledgerSource(api, all, [all]), api, executor, { concurrency: 1, once: false });

    const run = agent.run();
    await settle();
    expect(executor.running).toEqual(['tx1']);
    agent.stop();
    executor.finish('tx1');
    const summary = await run;

    expect(executor.runs).toEqual(['tx1']);
    expect(api.completions).toEqual(['t1']);
    expect(summary).toMatchObject({ started: 1, completed: 1, unreported: 0 });
  });

  it('on stop hands back to a delivering source what it received but never started', async () => {
    const all = [assignment(1), assignment(2), assignment(3)];
    const api = new FakeApi();
    api.assign(...all);
    const executor = new ControlledExecutor(null);
    const settled: string[] = [];
    const source = Object.assign(ledgerSource(api, all, [all]), {
      settle: async (a: Assignment, how: 'done' | 'retry') => void settled.push(`${a.transactionId}:${how}`),
    });
    const { agent } = build(source, api, executor, { concurrency: 1, once: false });

    const run = agent.run();
    await settle();
    agent.stop();
    executor.finish('tx1');
    await run;

    // tx2 and tx3 were received with tx1 and never started: made visible again for the next agent.
    expect(settled.sort()).toEqual(['tx1:done', 'tx2:retry', 'tx3:retry']);
    expect(executor.runs).toEqual(['tx1']);
  });

  it('a second stop cuts running work off, which is then not reported', async () => {
    const all = [assignment(1)];
    const api = new FakeApi();
    api.assign(...all);
    const executor = new ControlledExecutor(null);
    const { agent } = build(ledgerSource(api, all, [all]), api, executor, { once: false });

    const run = agent.run();
    await settle();
    agent.stop();
    expect(executor.contexts[0]!.abort.aborted).toBe(false);
    agent.stop();
    const summary = await run;

    expect(executor.contexts[0]!.abort.aborted).toBe(true);
    expect(api.completions).toEqual([]);
    expect(summary).toMatchObject({ started: 1, completed: 0, unreported: 1 });
  });

  it('gives the executor the time left on the lease and leaves a timed-out run to lease expiry', async () => {
    const a = assignment(1, { leaseExpiresAt: T0 + 12_345 });
    const api = new FakeApi();
    api.assign(a);
    const executor = new ControlledExecutor({ kind: 'timed-out', output: '', truncated: false });
    const { agent } = build(new ScriptedSource([[a]]), api, executor);

    const summary = await agent.run();

    expect(executor.contexts[0]!.budgetMs).toBe(12_345);
    expect(api.completions).toEqual([]);
    expect(summary).toMatchObject({ started: 1, timed_out: 1, completed: 0 });
  });

  it('retries a report on transient failures with growing, capped backoff, then records it once', async () => {
    const a = assignment(1);
    const api = new FakeApi();
    api.assign(a);
    api.failNext.push(new TransientError('HTTP 503'), new TransientError('ECONNREFUSED'));
    const { agent, sleep, log } = build(new ScriptedSource([[a]]), api, new ControlledExecutor(), {
      reporter: { baseMs: 100, capMs: 150, random: () => 0.999 },
    });

    const summary = await agent.run();

    expect(api.completions).toEqual(['t1', 't1', 't1']);
    expect(api.states.get('t1')?.status).toBe('completed');
    expect(summary).toMatchObject({ completed: 1, unreported: 0 });
    // Full jitter under min(cap, base * 2^(attempt-1)): at most 100, then at most 150 (capped from 200).
    expect(sleep.waits).toHaveLength(2);
    expect(sleep.waits[0]).toBeGreaterThan(99);
    expect(sleep.waits[0]).toBeLessThanOrEqual(100);
    expect(sleep.waits[1]).toBeGreaterThan(149);
    expect(sleep.waits[1]).toBeLessThanOrEqual(150);
    const retries = log.lines.filter((l) => l.msg.includes('retrying'));
    expect(retries.map((l) => [l.fields.task_id, l.fields.transaction_id, l.fields.attempt])).toEqual([
      ['t1', 'tx1', 1],
      ['t1', 'tx1', 2],
    ]);
  });

  it('gives up after the configured attempts and does not retry a permanent refusal', async () => {
    const [a1, a2] = [assignment(1), assignment(2)];
    const api = new FakeApi();
    api.assign(a1, a2);
    api.failNext.push(new TransientError('503'), new TransientError('503'), new TransientError('503'));
    const { agent } = build(new ScriptedSource([[a1]]), api, new ControlledExecutor(), {
      reporter: { maxAttempts: 3 },
    });
    expect(await agent.run()).toMatchObject({ completed: 0, unreported: 1 });
    expect(api.completions).toEqual(['t1', 't1', 't1']);

    api.failNext.push(new PermanentError('HTTP 401 Unauthorized', 401));
    const second = build(new ScriptedSource([[a2]]), api, new ControlledExecutor());
    expect(await second.agent.run()).toMatchObject({ completed: 0, unreported: 1 });
    expect(api.completions.filter((t) => t === 't2')).toEqual(['t2']);
  });

  it('counts a report answered already-final (the lease expired meanwhile) as done, not as a completion', async () => {
    const a = assignment(1);
    const api = new FakeApi();
    api.assign(a);
    const executor = new ControlledExecutor(null);
    const { agent } = build(new ScriptedSource([[a]]), api, executor);

    const run = agent.run();
    await settle();
    api.states.set('t1', { status: 'expired', transactionId: 'expiry' });
    executor.finish('tx1');

    expect(await run).toMatchObject({ started: 1, completed: 0, already_final: 1, unreported: 0 });
    expect(api.states.get('t1')?.status).toBe('expired');
  });

  it('with --once fails on a permanent poll error instead of retrying forever', async () => {
    const source: AssignmentSource = {
      poll: async () => {
        throw new PermanentError('HTTP 404 no VM vm-1', 404);
      },
    };
    const { agent } = build(source, new FakeApi(), new ControlledExecutor());
    await expect(agent.run()).rejects.toThrow('no VM vm-1');
  });

  it('keeps polling through transient errors with backoff', async () => {
    const a = assignment(1);
    const api = new FakeApi();
    api.assign(a);
    let calls = 0;
    const source: AssignmentSource = {
      poll: async () => {
        calls++;
        if (calls <= 2) throw new TransientError('ECONNREFUSED');
        return api.open([a]);
      },
    };
    const { agent, sleep } = build(source, api, new ControlledExecutor());
    expect(await agent.run()).toMatchObject({ completed: 1 });
    expect(sleep.waits).toHaveLength(2);
  });

  it('refuses a concurrency below 1', () => {
    expect(() =>
      build(new ScriptedSource([]), new FakeApi(), new ControlledExecutor(), { concurrency: 0 }),
    ).toThrow('concurrency');
  });
});

describe('Agent with a delivery source', () => {
  it('settles each delivery once: done when finished, retry when the ledger could not be asked', async () => {
    const [a1, a2] = [assignment(1), assignment(2)];
    const api = new FakeApi();
    api.assign(a1, a2);
    const realState = api.taskState.bind(api);
    api.taskState = async (taskId) => {
      if (taskId === 't2') throw new TransientError('ECONNRESET');
      return realState(taskId);
    };
    const settled: [string, string][] = [];
    const maxes: number[] = [];
    const script = [[a1, a2]];
    const source: AssignmentSource = {
      poll: async ({ max }) => {
        maxes.push(max);
        return script.shift() ?? [];
      },
      settle: async (a, how) => {
        settled.push([a.transactionId, how]);
      },
    };
    const { agent } = build(source, api, new ControlledExecutor(), { concurrency: 3 });

    await agent.run();

    expect(settled.sort()).toEqual([
      ['tx1', 'done'],
      ['tx2', 'retry'],
    ]);
    expect(maxes[0]).toBe(3);
    expect(api.completions).toEqual(['t1']);
  });
  it('settles a redelivery of an assignment it already finished, so the copy is deleted, not skipped forever', async () => {
    const a1 = assignment(1);
    const api = new FakeApi();
    api.assign(a1);
    const settled: [string, string][] = [];
    const executor = new ControlledExecutor();
    let polls = 0;
    const source: AssignmentSource = {
      poll: async () => {
        polls++;
        if (polls === 1) return [a1];
        // The first copy has run and been settled before SQS hands out the second one.
        await settle();
        return polls === 2 ? [a1] : [];
      },
      settle: async (a, how) => {
        settled.push([a.transactionId, how]);
      },
    };
    const { agent } = build(source, api, executor);

    await agent.run();

    expect(executor.runs).toEqual(['tx1']);
    expect(api.completions).toEqual(['t1']);
    // Once for the delivery that ran, once for the redelivered copy.
    expect(settled).toEqual([
      ['tx1', 'done'],
      ['tx1', 'done'],
    ]);
  });
});

describe('Agent at high concurrency', () => {
  it('runs many tasks at once without Node warning about abort listeners (stderr stays JSON lines)', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const all = Array.from({ length: 24 }, (_, i) => assignment(i + 1));
      const api = new FakeApi();
      api.assign(...all);
      // The real simulated executor: each run listens on the agent's stop-now signal.
      const { agent } = build(new ScriptedSource([all]), api, new SimulatedExecutor(1), {
        concurrency: 24,
        once: false,
      });
      const run = agent.run();
      await settle();
      agent.stop();
      agent.stop();
      expect(await run).toMatchObject({ started: 24, unreported: 24 });
      await new Promise((r) => setImmediate(r));
      expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
