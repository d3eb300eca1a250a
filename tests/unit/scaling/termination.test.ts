import {
  CompleteLifecycleActionCommand,
  type DescribeAutoScalingGroupsCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import { describe, expect, it } from 'vitest';
import { scaleInHandler } from '../../../functions/handlers/scale-in';
import { AutoScalingTerminationLifecycle } from '../../../lib/adapters/autoscaling/termination-lifecycle';
import type { Reservation } from '../../../lib/ports/ledger-store';
import type { TerminatingInstance, TerminationLifecycle } from '../../../lib/ports/scaling';
import { settleTerminations } from '../../../lib/scaling/termination';
import { terminateLifecycleEvent } from '../functions/helpers/events';

const GROUP = 'workers';
const HOOK = 'bcs-drain-before-terminate';
const at = (instanceId: string, token?: string): TerminatingInstance => ({
  instanceId,
  groupName: GROUP,
  hookName: HOOK,
  ...(token ? { token } : {}),
});

/** A ledger of active task counts, a lifecycle and a drain that log every call in order. */
function world(active: Record<string, number>, waiting: TerminatingInstance[] = []) {
  const calls: string[] = [];
  const ledger = new Map(Object.entries(active));
  const lifecycle: TerminationLifecycle = {
    waiting: async () => waiting,
    release: async (i) => void calls.push(`release ${i.instanceId}`),
    hold: async (i) => void calls.push(`hold ${i.instanceId}`),
  };
  const store = {
    getReservations: async (ids?: readonly string[]): Promise<Reservation[]> => {
      calls.push(`read ${ids!.join(',')}`);
      return ids!
        .filter((id) => ledger.has(id))
        .map((id) => ({ vm_id: id, reserved: {}, capacity: {}, active_tasks: ledger.get(id)! }));
    },
  };
  const termination = {
    drain: async (id: string) => void calls.push(`drain ${id}`),
    store,
    settleMs: 90_000,
    sleep: async (ms: number) => void calls.push(`sleep ${ms}`),
  };
  return { calls, ledger, lifecycle, termination };
}

describe('settleTerminations: the scale-in rule', () => {
  it('drains every instance, waits out placements under way, then releases the idle and holds the busy', async () => {
    const w = world({ 'i-busy': 2, 'i-idle': 0 });
    const outcomes = await settleTerminations([at('i-idle'), at('i-busy'), at('i-unknown')], {
      ...w.termination,
      lifecycle: w.lifecycle,
    });
    expect(outcomes).toEqual([
      { instanceId: 'i-idle', action: 'released' },
      { instanceId: 'i-busy', action: 'held', activeTasks: 2 },
      // Never placed on: no VM# item at all, nothing to wait for.
      { instanceId: 'i-unknown', action: 'released' },
    ]);
    expect(w.calls).toEqual([
      'drain i-idle',
      'drain i-busy',
      'drain i-unknown',
      'sleep 90000',
      'read i-busy,i-idle,i-unknown',
      'release i-idle',
      'hold i-busy',
      'release i-unknown',
    ]);
  });

  it('the race: an idle instance chosen for scale-in that receives a task before the read is held, not terminated', async () => {
    const w = world({ 'i-1': 0 });
    // A scheduler that listed the fleet before the drain commits a placement on i-1 during the wait.
    const sleep = async () => void w.ledger.set('i-1', 1);
    const first = await settleTerminations([at('i-1')], { ...w.termination, sleep, lifecycle: w.lifecycle });
    expect(first).toEqual([{ instanceId: 'i-1', action: 'held', activeTasks: 1 }]);
    // The task completes (or its lease expires): the next minute's run lets the termination go on.
    w.ledger.set('i-1', 0);
    const next = await settleTerminations([at('i-1')], { ...w.termination, lifecycle: w.lifecycle });
    expect(next).toEqual([{ instanceId: 'i-1', action: 'released' }]);
    expect(w.calls.filter((c) => c.startsWith('release') || c.startsWith('hold'))).toEqual([
      'hold i-1',
      'release i-1',
    ]);
  });

  it('does nothing, and does not wait, without terminating instances', async () => {
    const w = world({});
    expect(await settleTerminations([], { ...w.termination, lifecycle: w.lifecycle })).toEqual([]);
    expect(w.calls).toEqual([]);
  });

  it('a failed drain releases nothing (the next run tries again)', async () => {
    const w = world({ 'i-1': 0 });
    const drain = async () => {
      throw new Error('throttled');
    };
    await expect(
      settleTerminations([at('i-1')], { ...w.termination, drain, lifecycle: w.lifecycle }),
    ).rejects.toThrow('throttled');
    expect(w.calls).toEqual([]);
  });
});

const lifecycleEvent = (detail: Record<string, unknown> = {}) =>
  terminateLifecycleEvent({
    AutoScalingGroupName: GROUP,
    LifecycleHookName: HOOK,
    EC2InstanceId: 'i-0123456789abcdef0',
    ...detail,
  });
const scheduled = {
  version: '0',
  id: 'e-2',
  source: 'aws.events',
  'detail-type': 'Scheduled Event',
  detail: {},
};

function handler(active: Record<string, number>, waiting: TerminatingInstance[] = []) {
  const w = world(active, waiting);
  const logged: string[] = [];
  const log = (msg: string) => void logged.push(msg);
  const handle = scaleInHandler({
    env: { AUTO_SCALING_GROUP_NAME: GROUP, LIFECYCLE_HOOK_NAME: HOOK, SETTLE_SECONDS: 90 },
    lifecycle: w.lifecycle,
    termination: { drain: w.termination.drain, store: w.termination.store, sleep: w.termination.sleep },
    logger: { info: log, warn: log, error: log, debug: log } as never,
  });
  return { ...w, handle, logged };
}

describe('the scale-in function', () => {
  it("settles the lifecycle event's instance, waiting the configured settle time", async () => {
    const h = handler({ 'i-0123456789abcdef0': 0 });
    expect(await h.handle(lifecycleEvent())).toEqual([
      { instanceId: 'i-0123456789abcdef0', action: 'released' },
    ]);
    expect(h.calls).toContain('sleep 90000');
  });

  it('every minute, settles the instances the hook still holds', async () => {
    const h = handler({ 'i-a': 1 }, [at('i-a'), at('i-b')]);
    expect(await h.handle(scheduled)).toEqual([
      { instanceId: 'i-a', action: 'held', activeTasks: 1 },
      { instanceId: 'i-b', action: 'released' },
    ]);
  });

  it("ignores another group's or hook's event, and refuses a malformed one naming the field", async () => {
    const h = handler({});
    expect(await h.handle(lifecycleEvent({ AutoScalingGroupName: 'other' }))).toEqual([]);
    expect(await h.handle(lifecycleEvent({ LifecycleHookName: 'other' }))).toEqual([]);
    expect(h.calls).toEqual([]);
    await expect(h.handle(lifecycleEvent({ EC2InstanceId: 'vm-1' }))).rejects.toThrow(/EC2InstanceId/);
    await expect(h.handle({ source: 'aws.ec2' })).rejects.toThrow(/scale-in event/);
  });
});

describe('AutoScalingTerminationLifecycle', () => {
  function client(answer: (command: object) => unknown = () => ({})) {
    const sent: object[] = [];
    return {
      sent,
      client: {
        send: async (command: object) => {
          sent.push(command);
          const a = answer(command);
          if (a instanceof Error) throw a;
          return a;
        },
      },
    };
  }

  it("lists the group's instances in Terminating:Wait only", async () => {
    const c = client(() => ({
      AutoScalingGroups: [
        {
          AutoScalingGroupName: GROUP,
          Instances: [
            { InstanceId: 'i-1', LifecycleState: 'InService' },
            { InstanceId: 'i-2', LifecycleState: 'Terminating:Wait' },
            { InstanceId: 'i-3', LifecycleState: 'Terminating:Proceed' },
          ],
        },
      ],
    }));
    const lifecycle = new AutoScalingTerminationLifecycle(c.client, GROUP, HOOK);
    expect(await lifecycle.waiting()).toEqual([at('i-2')]);
    expect((c.sent[0] as DescribeAutoScalingGroupsCommand).input).toEqual({ AutoScalingGroupNames: [GROUP] });
  });

  it('completes with CONTINUE and heartbeats, with the token when the event gave one', async () => {
    const c = client();
    const lifecycle = new AutoScalingTerminationLifecycle(c.client, GROUP, HOOK);
    await lifecycle.release(at('i-1', 'tok'));
    await lifecycle.hold(at('i-2'));
    expect(c.sent[0]).toBeInstanceOf(CompleteLifecycleActionCommand);
    expect((c.sent[0] as CompleteLifecycleActionCommand).input).toEqual({
      AutoScalingGroupName: GROUP,
      LifecycleHookName: HOOK,
      InstanceId: 'i-1',
      LifecycleActionToken: 'tok',
      LifecycleActionResult: 'CONTINUE',
    });
    expect(c.sent[1]).toBeInstanceOf(RecordLifecycleActionHeartbeatCommand);
    expect((c.sent[1] as RecordLifecycleActionHeartbeatCommand).input).toEqual({
      AutoScalingGroupName: GROUP,
      LifecycleHookName: HOOK,
      InstanceId: 'i-2',
    });
  });

  it('an action that is no longer waiting is done; any other refusal is an error', async () => {
    const gone = Object.assign(new Error('No active Lifecycle Action found with instance ID i-1'), {
      name: 'ValidationError',
    });
    await expect(
      new AutoScalingTerminationLifecycle(client(() => gone).client, GROUP, HOOK).release(at('i-1')),
    ).resolves.toBeUndefined();
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDenied' });
    await expect(
      new AutoScalingTerminationLifecycle(client(() => denied).client, GROUP, HOOK).hold(at('i-1')),
    ).rejects.toThrow('not authorized');
  });
});
