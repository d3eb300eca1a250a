import { describe, expect, it } from 'vitest';
import { commandRequest, isFinalCommandStatus } from '../../../lib/dispatch/command';
import { CommandNotAllowedError } from '../../../lib/dispatch/command-templates';
import type { TaskAssigned } from '../../../lib/ports/dispatcher';

const NOW = 1_800_000_000_000;
const TEMPLATES = { x: { run: ['/bin/true'] }, echo: { run: ['/bin/echo'], maxArguments: 2 } };

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
    expect(commandRequest(assigned({ command: 'echo hi' }), NOW, TEMPLATES)).toEqual({
      instanceId: 'i-0123456789abcdef0',
      template: 'echo',
      arguments: ['hi'],
      timeoutSeconds: 600,
      comment: 'bcs task t1',
    });
  });

  it('nothing to run without a command, or when less than a second of lease is left', () => {
    expect(commandRequest(assigned(), NOW, TEMPLATES)).toBeNull();
    expect(commandRequest(assigned({ command: 'x' }, NOW + 999), NOW, TEMPLATES)).toBeNull();
    expect(commandRequest(assigned({ command: 'x' }, NOW - 1), NOW, TEMPLATES)).toBeNull();
    expect(commandRequest(assigned({ command: 'x' }, NOW + 1000), NOW, TEMPLATES)?.timeoutSeconds).toBe(1);
  });

  it('keeps within SSM limits: 48 h of execution, a 100-character comment', () => {
    const request = commandRequest(
      assigned({ command: 'x', id: 'a'.repeat(128) }, NOW + 3 * 86_400_000),
      NOW,
      TEMPLATES,
    );
    expect(request?.timeoutSeconds).toBe(48 * 3600);
    expect(request?.comment).toBe(`bcs task ${'a'.repeat(91)}`);
  });

  it('refuses a command that is not an allowed template with valid arguments, naming why', () => {
    const run = (command: string) => () => commandRequest(assigned({ command }), NOW, TEMPLATES);
    expect(run('rm -rf /')).toThrow(CommandNotAllowedError);
    expect(run('rm -rf /')).toThrow(/allowed template name \(echo, x\); got "rm"/);
    expect(run('x extra')).toThrow(/template x takes at most 0 arguments \(got 1\)/);
    expect(run('echo a b c')).toThrow(/at most 2 arguments/);
    for (const hostile of ['$(id)', '`id`', 'a;id', 'a|id', '>f', '*', "'q'", 'a\nid']) {
      expect(run(`echo ${hostile}`), hostile).toThrow(/argument 1 of template echo must match/);
    }
    // Two spaces make an empty argument, which is not a safe word either.
    expect(run('echo  hi')).toThrow(/argument 1/);
    expect(run('constructor')).toThrow(/allowed template name/);
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
