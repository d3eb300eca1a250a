import type { Duration } from 'aws-cdk-lib';
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
   * Where the scheduler forwards tasks that can never be placed, and the queue's maxReceiveCount
   * (which tells the function when a delivery is the last). Must be the task queue's redrive target.
   * @default the dead-letter queue `queue` was created with
   */
  readonly deadLetterQueue?: DeadLetterQueue;
  /** Environment shared with the other functions (table, dimensions, algorithm, fleet selection). */
  readonly environment: Record<string, string>;
  readonly timeout: Duration;
  readonly batchSize: number;
  readonly maxBatchingWindow: Duration;
  readonly maxConcurrency: number;
  readonly retainLogs: boolean;
  /** How often leases that ran out are expired. */
  readonly leaseSweepInterval: Duration;
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
    const deadLetters =
      props.deadLetterQueue ?? (props.queue instanceof Queue ? props.queue.deadLetterQueue : undefined);
    if (deadLetters === undefined) {
      throw new Error(
        'Scheduler: deadLetterQueue is required when queue has no dead-letter queue: unplaceable tasks must end there',
      );
    }
    this.function = new ServiceFunction(this, 'Scheduler', {
      entry: 'scheduler.ts',
      description: 'Places queued tasks on VMs and appends the decisions to the ledger',
      serviceName: 'scheduler',
      environment: {
        ...props.environment,
        DEAD_LETTER_QUEUE_URL: deadLetters.queue.queueUrl,
        MAX_RECEIVE_COUNT: String(deadLetters.maxReceiveCount),
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
    grantLedgerWrite(this.function, props.table);
    grantFleetRead(this.function);
    // Only SendMessage (SendMessageBatch is authorised as it), and only to the DLQ: the scheduler
    // never writes to the task queue it consumes.
    this.function.addToRolePolicy(
      new PolicyStatement({
        sid: 'ForwardUnplaceableTasks',
        actions: ['sqs:SendMessage'],
        resources: [deadLetters.queue.queueArn],
      }),
    );

    // Expiry appends `expired` transactions like the scheduler appends decisions: same writer rights.
    this.expireFunction = new ServiceFunction(this, 'Expire', {
      entry: 'expire.ts',
      description: 'Expires the leases of assigned tasks nobody completed, releasing their reservations',
      serviceName: 'expire',
      environment: props.environment,
      timeout: props.timeout,
      retainLogs: props.retainLogs,
    }).function;
    grantLedgerWrite(this.expireFunction, props.table);
    grantFleetRead(this.expireFunction);
    // The next sweep replaces a failed one: no Lambda-side async retries of stale work.
    this.expireFunction.configureAsyncInvoke({ retryAttempts: 0 });
    new Rule(this, 'LeaseSweep', {
      description: 'Periodic expiry of task leases',
      schedule: Schedule.rate(props.leaseSweepInterval),
      targets: [new LambdaFunction(this.expireFunction, { retryAttempts: 2 })],
    });
  }
}
