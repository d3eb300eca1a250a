import { describe, expect, it } from 'vitest';
import { SimulatedExecutor } from '../../../agent/executor';
import { assignment } from './fakes';

function recordingSleep() {
  const waits: number[] = [];
  const sleep = async (ms: number) => {
    waits.push(ms);
  };
  return Object.assign(sleep, { waits });
}

describe('SimulatedExecutor', () => {
  const live = new AbortController().signal;

  it('sleeps the duration divided by the speed factor and executes nothing', async () => {
    const sleep = recordingSleep();
    const executor = new SimulatedExecutor(4, sleep);
    const outcome = await executor.run(assignment(1, { durationS: 10, command: 'rm -rf /' }), {
      budgetMs: 60_000,
      abort: live,
    });
    expect(outcome).toEqual({ kind: 'simulated' });
    expect(sleep.waits).toEqual([2500]);
  });

  it('stops at the lease end when the simulated run would outlast it', async () => {
    const sleep = recordingSleep();
    const outcome = await new SimulatedExecutor(1, sleep).run(assignment(1, { durationS: 10 }), {
      budgetMs: 4000,
      abort: live,
    });
    expect(outcome.kind).toBe('timed-out');
    expect(sleep.waits).toEqual([4000]);
  });

  it('reports an interrupted run when the agent is told to stop at once', async () => {
    const abort = new AbortController();
    abort.abort();
    const outcome = await new SimulatedExecutor(1, recordingSleep()).run(assignment(1), {
      budgetMs: 60_000,
      abort: abort.signal,
    });
    expect(outcome.kind).toBe('interrupted');
  });
});
