import type { ResourceVector } from '../model/resources';

/**
 * Dispatch: telling the world (and optionally the VM) about assignments once they are committed.
 * Delivery is at least once: a block is handed to the dispatcher again after any failure, so every
 * consumer of TaskAssigned must deduplicate on `transactionId` (EventBridge does not).
 */

/** What a task carries beyond the ledger's record of it: only the dispatcher needs it. */
export interface TaskSpec {
  task_id: string;
  command?: string;
  labels: Record<string, string>;
}

/** The detail of one TaskAssigned event (docs/aws.md, "Dispatch"). */
export interface TaskAssigned {
  task: {
    id: string;
    requirements: ResourceVector;
    /** Seconds. */
    duration: number;
    /** Epoch seconds. */
    deadline: number;
    command?: string;
    labels: Record<string, string>;
  };
  vmId: string;
  transactionId: string;
  blockHeight: number;
  /** Epoch ms after which the assignment expires unless completed. */
  leaseExpiresAt: number;
  /** The GPU devices (local indexes on the VM) the ledger's assignment gave the task, when any. */
  devices?: number[];
}

export interface PublishFailure {
  transactionId: string;
  error: string;
}

/** Where TaskAssigned events go (EventBridge on AWS). */
export interface AssignmentPublisher {
  /** Publishes every event it can; reports those it could not, so the caller retries them. */
  publish(events: readonly TaskAssigned[]): Promise<PublishFailure[]>;
}

export interface CommandRequest {
  instanceId: string;
  /** The allow-listed command template to run (lib/dispatch/command-templates.ts). */
  template: string;
  /** Its arguments, each already checked against the template. */
  arguments: string[];
  /** The command's execution timeout, seconds. */
  timeoutSeconds: number;
  /** Shown to operators next to the command (SSM caps it at 100 characters). */
  comment: string;
  /** The task's GPU devices: sent as the document's gpuDevices parameter (CUDA_VISIBLE_DEVICES). */
  devices?: number[];
}

/**
 * Thrown by a CommandRunner when the command certainly did not start (the service refused the
 * request). Any other error leaves it uncertain whether the command went out.
 */
export class CommandNotSentError extends Error {
  override name = 'CommandNotSentError';
}

/** A command the dispatcher gave up sending, with everything needed to send it by hand or redrive it. */
export interface UndeliveredCommand {
  assignment: TaskAssigned;
  /** The refusal of the last attempt. */
  error: string;
  /** Sends tried; 0 when it was never sent (not an allowed command template). */
  attempts: number;
  /** Epoch ms of the last attempt. */
  at: number;
}

/**
 * Where commands that could not be sent go (an SQS queue with an alarm on AWS). Throws when they did
 * not get there: the dispatcher then fails the block so that it is handed over again.
 */
export interface UndeliveredCommands {
  deadLetter(commands: readonly UndeliveredCommand[]): Promise<void>;
}

/** Runs a shell command on a VM (SSM Run Command on AWS). */
export interface CommandRunner {
  /** Throws CommandNotSentError when the command was refused; any other error means "maybe sent". */
  send(request: CommandRequest): Promise<{ commandId: string }>;
}

/**
 * The state of a task's command: claimed before sending, so a redelivered block never sends it
 * twice. `sending` without a command id means a dispatcher stopped between the claim and recording
 * the id, or got no answer from the runner: the command may or may not have gone out, and it is never
 * sent again (lease expiry ends the assignment if it did not run).
 */
export type CommandClaim =
  | { state: 'claimed' }
  | { state: 'sending'; transactionId: string }
  | { state: 'sent'; transactionId: string; commandId: string };

/** The dispatcher's own records (DISPATCH# items on DynamoDB). */
export interface DispatchRecords {
  /** Records specs first-writer-wins: an existing spec for a task id is kept. */
  putSpecs(specs: readonly TaskSpec[]): Promise<void>;
  getSpecs(taskIds: readonly string[]): Promise<Map<string, TaskSpec>>;
  /** Claims the right to send the command of `taskId`; anything but 'claimed' means do not send. */
  claimCommand(taskId: string, transactionId: string, now: number): Promise<CommandClaim>;
  /**
   * Undoes a claim whose send failed, so that a later delivery of the block may send it. Only the
   * claim `transactionId` made, and only while it is still `sending`.
   */
  releaseCommand(taskId: string, transactionId: string): Promise<void>;
  /** After a successful send: the command id, and the way back from it to the task. */
  recordCommand(taskId: string, commandId: string): Promise<void>;
  /** The task a command was sent for, or null when no command id was recorded for it. */
  taskOfCommand(commandId: string): Promise<string | null>;
  /**
   * Marks the dispatch records of tasks whose ledger status is final (spec, run claim, command id)
   * to expire at `expiresAt` (epoch seconds; DynamoDB TTL deletes them some time after). Records
   * that do not exist are not created.
   */
  expireRecords(taskIds: readonly string[], expiresAt: number): Promise<void>;
}
