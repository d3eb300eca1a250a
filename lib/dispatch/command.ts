import type { CommandRequest, TaskAssigned } from '../ports/dispatcher';
import { type CommandTemplates, parseTemplateCommand } from './command-templates';

/** SSM's limits: a runShellScript step runs at most 48 hours, a Comment has 100 characters. */
export const MAX_EXECUTION_TIMEOUT_SECONDS = 172_800;
export const MAX_COMMENT_LENGTH = 100;

/**
 * The Run Command request for an assignment that carries a command, or null when there is nothing to
 * run or its lease has already ended. The command is killed at the lease's end: after it the ledger
 * may expire the assignment and the VM's capacity goes to other tasks, so it must not keep running.
 * Throws CommandNotAllowedError when the command is not an allowed template with valid arguments.
 */
export function commandRequest(
  event: TaskAssigned,
  now: number,
  templates: CommandTemplates,
): CommandRequest | null {
  if (event.task.command === undefined) return null;
  const remaining = Math.floor((event.leaseExpiresAt - now) / 1000);
  if (remaining < 1) return null;
  const parsed = parseTemplateCommand(event.task.command, templates);
  return {
    instanceId: event.vmId,
    template: parsed.template,
    arguments: parsed.arguments,
    timeoutSeconds: Math.min(remaining, MAX_EXECUTION_TIMEOUT_SECONDS),
    comment: `bcs task ${event.task.id}`.slice(0, MAX_COMMENT_LENGTH),
    ...(event.devices === undefined ? {} : { devices: [...event.devices] }),
  };
}

/** The detail-type of the events SSM puts on the default bus for each instance a command runs on. */
export const COMMAND_STATUS_DETAIL_TYPE = 'EC2 Command Invocation Status-change Notification';

/**
 * Run Command statuses after which the command no longer runs on the instance: the VM's share is
 * free again, whatever the outcome. (Pending, InProgress, Delayed and Cancelling are not final.)
 */
export const FINAL_COMMAND_STATUSES = [
  'Success',
  'Failed',
  'TimedOut',
  'Cancelled',
  'DeliveryTimedOut',
  'ExecutionTimedOut',
  'Undeliverable',
  'Terminated',
  'InvalidPlatform',
  'AccessDenied',
] as const;

export function isFinalCommandStatus(status: string): boolean {
  return (FINAL_COMMAND_STATUSES as readonly string[]).includes(status);
}
