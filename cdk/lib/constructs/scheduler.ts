import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { type DeadLetterQueue, type IQueue, Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { grantFleetRead, grantLedgerWrite } from '../ledger-access';
import { ServiceFunction } from '../nodejs-function';

export interface SchedulerProps {
  readonly table: ITable;
  readonly queue: IQueue;
  /**
   * The task queue's redrive target and its maxReceiveCount (which tells the function when a
   * delivery is the last). The scheduler consumes it too: a task SQS moved there is recorded as
   * rejected, then forwarded to `deadLetterQueue`.
   * @default the dead-letter queue `queue` was created with
   */
  readonly exhaustedQueue?: DeadLetterQueue;
  /** Where the scheduler forwards tasks recorded as rejected, and messages that hold no valid task. */
  readonly deadLetterQueue: IQueue;
  /** Environment shared with the other functions (table, dimensions, algorithm, fleet selection). */
  readonly environment: Record<string, string>;
  readonly timeout: Duration;
  readonly batchSize: number;
  readonly maxBatchingWindow: Duration;
  readonly maxConcurrency: number;
  readonly retainLogs: boolean;
  /** How often leases that ran out are expired. */
  readonly leaseSweepInterval: Duration;
  /** Completions reported to the API and command-status functions: the lease closer records them. */
  readonly completionQueue: IQueue;
}

/**
 * The scheduler function and its SQS event source. Batch item failures are reported per record, so
 * one unplaceable record never makes SQS redeliver the records that were committed.
 */
export class Scheduler extends Construct {
  readonly function: NodejsFunction;
  readonly expireFunction: NodejsFunction;

  constructor(scope: Construct, id: string, props: SchedulerProps) {
    super(scope, id);
    const exhausted =
      props.exhaustedQueue ?? (props.queue instanceof Queue ? props.queue.deadLetterQueue : undefined);
    if (exhausted === undefined) {
      throw new Error(
        'Scheduler: exhaustedQueue is required when queue has no redrive target: tasks it gives up on must be recorded',
      );
    }
    this.function = new ServiceFunction(this, 'Scheduler', {
      entry: 'scheduler.ts',
      description: 'Places queued tasks on VMs and appends the decisions to the ledger',
      serviceName: 'scheduler',
      environment: {
        ...props.environment,
        DEAD_LETTER_QUEUE_URL: props.deadLetterQueue.queueUrl,
        MAX_RECEIVE_COUNT: String(exhausted.maxReceiveCount),
        EXHAUSTED_QUEUE_ARN: exhausted.queue.queueArn,
      },
      timeout: props.timeout,
      memorySize: 1024,
      retainLogs: props.retainLogs,
    }).function;
    this.function.addEventSource(
      new SqsEventSource(props.queue, {
        batchSize: props.batchSize,
        maxBatchingWindow: props.maxBatchingWindow,
        maxConcurrency: props.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
    // Tasks the task queue gave up on: recorded as rejected, or left there until that succeeds.
    this.function.addEventSource(
      new SqsEventSource(exhausted.queue, {
        // Rare and small: ten records a batch, no batching window, two at a time at most.
        batchSize: 10,
        maxConcurrency: 2,
        reportBatchItemFailures: true,
      }),
    );
    grantLedgerWrite(this.function, props.table);
    grantFleetRead(this.function);
    // Only SendMessage (SendMessageBatch is authorised as it), and only to the DLQ: the scheduler
    // never writes to the queues it consumes.
    this.function.addToRolePolicy(
      new PolicyStatement({
        sid: 'ForwardUnplaceableTasks',
        actions: ['sqs:SendMessage'],
        resources: [props.deadLetterQueue.queueArn],
      }),
    );

    // The lease closer appends `expired` and `completed` transactions like the scheduler appends
    // decisions: same writer rights. It is the only other chain writer: the API and command-status
    // functions queue completions for it (completion-queue.ts).
    this.expireFunction = new ServiceFunction(this, 'Expire', {
      entry: 'expire.ts',
      description:
        'Expires the leases of assigned tasks nobody completed and records the completions queued by the API and command status, releasing their reservations',
      serviceName: 'expire',
      environment: props.environment,
      timeout: props.timeout,
      retainLogs: props.retainLogs,
    }).function;
    grantLedgerWrite(this.expireFunction, props.table, { leaseIndex: true });
    grantFleetRead(this.expireFunction);
    // The next sweep replaces a failed one: no Lambda-side async retries of stale work.
    this.expireFunction.configureAsyncInvoke({ retryAttempts: 0 });
    this.expireFunction.addEventSource(
      new SqsEventSource(props.completionQueue, {
        // A batch is one commit (a block per blockSize closings); two at a time at most, so closers
        // rarely race each other on the chain head.
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(1),
        maxConcurrency: 2,
        reportBatchItemFailures: true,
      }),
    );
    new Rule(this, 'LeaseSweep', {
      description: 'Periodic expiry of task leases',
      schedule: Schedule.rate(props.leaseSweepInterval),
      targets: [new LambdaFunction(this.expireFunction, { retryAttempts: 2 })],
    });
  }
}
