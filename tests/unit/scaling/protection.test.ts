import { describe, expect, it } from 'vitest';
import { busyInstances, freeToTerminate, protectionChanges } from '../../../lib/scaling/protection';

describe('busyInstances', () => {
  it('keeps VMs with at least one active task', () => {
    const busy = busyInstances([
      { vm_id: 'i-a', active_tasks: 2 },
      { vm_id: 'i-b', active_tasks: 0 }, // held tasks once, all finished
      { vm_id: 'i-c', active_tasks: 1 },
    ]);
    expect([...busy].sort()).toEqual(['i-a', 'i-c']);
  });
});

describe('protectionChanges', () => {
  it.each([
    // [group, busy, protect, release]
    [[{ id: 'i-a', protectedFromScaleIn: false }], ['i-a'], ['i-a'], []], // busy, unprotected: protect
    [[{ id: 'i-a', protectedFromScaleIn: true }], ['i-a'], [], []], // already right: no call
    [[{ id: 'i-a', protectedFromScaleIn: true }], [], [], ['i-a']], // empty now: release
    [[{ id: 'i-a', protectedFromScaleIn: false }], [], [], []],
    [[{ id: 'i-a', protectedFromScaleIn: false }], ['i-z'], [], []], // busy VM outside the group: not ours
  ])('group %j with busy %j: protect %j, release %j', (group, busy, protect, release) => {
    expect(protectionChanges(group, new Set(busy))).toEqual({ protect, release });
  });

  it('sorts the ids so repeated runs send the same requests', () => {
    const group = ['i-c', 'i-a', 'i-b'].map((id) => ({ id, protectedFromScaleIn: id !== 'i-b' }));
    expect(protectionChanges(group, new Set(['i-b', 'i-d']))).toEqual({
      protect: ['i-b'],
      release: ['i-a', 'i-c'],
    });
  });
});

describe('freeToTerminate', () => {
  it.each([
    ['draining', 0, true],
    ['draining', 1, false], // still running a task
    ['active', 0, false], // the scheduler may place on it any moment
  ] as const)('%s with %d tasks: %s', (state, activeTasks, expected) => {
    expect(freeToTerminate({ state, activeTasks })).toBe(expected);
  });
});
