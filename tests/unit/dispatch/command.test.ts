import { describe, expect, it } from 'vitest';
import { commandRequest, isFinalCommandStatus } from '../../../lib/dispatch/command';
import type { TaskAssigned } from '../../../lib/ports/dispatcher';

const NOW = 1_800_000_000_000;

function assigned(
  overrides: Partial<TaskAssigned['task']> = {},
  leaseExpiresAt = NOW + 600_000,
): TaskAssigned {
  return {
    task: { id: 't1', requirements: { cpu: 1 }, duration: 540, deadline: 0, labels: {}, ...overrides },
    vmId: 'i-0123456789abcdef0',
    transactionId: 'tx',
    blockHeight: 3,
    leaseExpiresAt,
  };
}

describe('commandRequest', () => {
  it('runs the command on the VM and kills it when the lease ends', () => {
    expect(commandRequest(assigned({ command: 'echo hi' }), NOW)).toEqual({
      instanceId: 'i-0123456789abcdef0',
      commands: ['echo hi'],
      timeoutSeconds: 600,
      comment: 'bcs task t1',
    });
  });

  it('nothing to run without a command, or when less than a second of lease is left', () => {
    expect(commandRequest(assigned(), NOW)).toBeNull();
    expect(commandRequest(assigned({ command: 'x' }, NOW + 999), NOW)).toBeNull();
    expect(commandRequest(assigned({ command: 'x' }, NOW - 1), NOW)).toBeNull();
    expect(commandRequest(assigned({ command: 'x' }, NOW + 1000), NOW)?.timeoutSeconds).toBe(1);
  });

  it('keeps within SSM limits: 48 h of execution, a 100-character comment', () => {
    const request = commandRequest(
      assigned({ command: 'x', id: 'a'.repeat(128) }, NOW + 3 * 86_400_000),
      NOW,
    );
    expect(request?.timeoutSeconds).toBe(48 * 3600);
    expect(request?.comment).toBe(`bcs task ${'a'.repeat(91)}`);
  });
});

describe('isFinalCommandStatus', () => {
  it.each(['Success', 'Failed', 'TimedOut', 'Cancelled'])('%s ends the command', (s) => {
    expect(isFinalCommandStatus(s)).toBe(true);
  });
  it.each(['Pending', 'InProgress', 'Delayed', 'Cancelling', 'success'])('%s does not', (s) => {
    expect(isFinalCommandStatus(s)).toBe(false);
  });
});
