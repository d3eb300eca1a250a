import { afterEach, describe, expect, it } from 'vitest';
import { inProcessRuntime } from '../helpers/in-process-runtime';

let store: { close(): Promise<void> };

/** A runtime whose loops are never started: the tests drive intake and engine by hand. */
function runtime() {
  const built = inProcessRuntime();
  store = built.store;
  return built;
}

const input = (id: string, cpu: number) => ({ id, cpu, mem: 100, deadline: 1_900_000_000, duration: 600 });

afterEach(async () => {
  await store.close();
});

describe('LocalRuntime views', () => {
  it('reports a task queued until the engine decides it, then with its block and reason', async () => {
    const { rt, engine, queue } = runtime();
    expect(await rt.intake.submitBody([input('q-1', 500)])).toEqual({ accepted: ['q-1'], duplicates: [] });
    expect(await rt.taskStatus('q-1')).toEqual({
      task_id: 'q-1',
      status: 'queued',
      vm_id: null,
      block_height: null,
      transaction_id: null,
      reason: null,
    });
    const [received] = await queue.receive(10);
    const outcome = await engine.schedule([received!.task]);
    const status = await rt.taskStatus('q-1');
    expect(status).toMatchObject({ status: 'assigned', block_height: outcome.head.height });
    expect(status!.reason).toBe(outcome.decisions[0]!.reason);
    expect(await rt.taskStatus('nobody')).toBeNull();
  });

  it('reports an already-decided task as a duplicate at intake', async () => {
    const { rt, engine, queue } = runtime();
    await rt.intake.submitBody(input('d-1', 100));
    const received = await queue.receive(10);
    await engine.schedule(received.map((r) => r.task));
    await queue.ack(received.map((r) => r.receipt));
    expect(await rt.intake.submitBody([input('d-1', 100), input('d-2', 100)])).toEqual({
      accepted: ['d-2'],
      duplicates: ['d-1'],
    });
  });

  it('merges ledger reservations into the fleet view and summarises per VM', async () => {
    const { rt, engine } = runtime();
    const outcome = await engine.schedule(rt.intake.parse([input('u-1', 500), input('u-2', 250)]));
    const vms = (await rt.fleetView()).vms;
    const reservedCpu = vms.reduce((n, vm) => n + (vm.reserved.cpu ?? 0), 0);
    expect(reservedCpu).toBe(750);
    const summary = await rt.ledgerSummary();
    expect(summary.height).toBe(outcome.head.height);
    expect(summary.head_hash).toBe(outcome.head.hash);
    expect(summary.transaction_count).toBe(2);
    const total = summary.vms.reduce((n, v) => n + v.assignments, 0);
    expect(total).toBe(2);
    for (const v of summary.vms) {
      const vm = vms.find((x) => x.id === v.vm_id)!;
      // Mean over cpu, mem, io, bw of reserved / capacity.
      const expected = ((vm.reserved.cpu ?? 0) / 1000 + (vm.reserved.mem ?? 0) / 1000) / 4;
      expect(v.utilisation).toBeCloseTo(expected, 12);
    }
  });

  it('switches algorithm with merged params and refuses unknown names without changing anything', () => {
    const { rt } = runtime();
    expect(rt.setAlgorithm({ algorithm: 'blockchain', params: { tau: 2 } })).toMatchObject({
      algorithm: 'blockchain',
      params: { alpha: 0.7, beta: 0.3, tau: 2, historyWindow: 10 },
    });
    expect(() => rt.setAlgorithm({ algorithm: 'nope' })).toThrow(/algorithm/);
    expect(rt.configView().algorithm).toBe('blockchain');
  });
});
