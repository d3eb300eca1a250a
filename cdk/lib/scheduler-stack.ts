import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { LEASE_INDEX_NAME } from '../../lib/adapters/dynamodb/keys';
import { AgentFeed } from './constructs/agent-feed';
import { AlarmTopic } from './constructs/alarm-topic';
import { SchedulerApi } from './constructs/api';
import { resolveAutoScaling, WorkerGroup } from './constructs/autoscaling';
import { CompletionQueue } from './constructs/completion-queue';
import { Dispatch } from './constructs/dispatch';
import { FleetMonitor, grantFleetDrain } from './constructs/fleet-monitor';
import { FullAudit } from './constructs/full-audit';
import { LedgerTable } from './constructs/ledger-table';
import { LogPublisher } from './constructs/log-publisher';
import { ScaleInHook } from './constructs/scale-in-hook';
import { Scheduler } from './constructs/scheduler';
import { TaskQueue } from './constructs/task-queue';
import { Verifier } from './constructs/verifier';
import { TEST_STAGES } from './defaults';
import { grantAcceptanceWrite, grantFleetRead, grantLedgerRead } from './ledger-access';
import { METRICS_NAMESPACE, ServiceFunction } from './nodejs-function';
import { type BlockchainSchedulerProps, type ResolvedProps, resolveProps, validateProps } from './props';

export interface SchedulerStackProps extends StackProps {
  readonly scheduler?: BlockchainSchedulerProps;
}

/** Names of the stack outputs, shared with the end-to-end test and the deploy guide. */
export const OUTPUTS = {
  apiUrl: 'ApiUrl',
  tableName: 'TableName',
  queueName: 'QueueName',
  deadLetterQueueName: 'DeadLetterQueueName',
  autoScalingGroupName: 'AutoScalingGroupName',
  eventBusName: 'EventBusName',
  apiKeyId: 'ApiKeyId',
  apiId: 'ApiId',
  apiStage: 'ApiStage',
  emulatorApiPath: 'EmulatorApiPath',
  digestKeyArn: 'DigestKeyArn',
  verifyFunctionName: 'VerifyFunctionName',
  logBucketName: 'LogBucketName',
  publishLogFunctionName: 'PublishLogFunctionName',
  agentQueuePrefix: 'AgentQueuePrefix',
  agentInstanceProfileName: 'AgentInstanceProfileName',
} as const;

/** The function environment the schedulers and readers share (read by functions/shared/config.ts). */
function schedulingEnvironment(p: ResolvedProps, tableName: string): Record<string, string> {
  return {
    TABLE_NAME: tableName,
    LEASE_INDEX_NAME,
    DIMENSIONS: p.dimensions.join(','),
    ALGORITHM: p.algorithm,
    ALPHA: String(p.alpha),
    BETA: String(p.beta),
    TAU: String(p.tau),
    HISTORY_WINDOW: String(p.historyWindow),
    BLOCK_SIZE: String(p.blockSize),
    VM_TAG_KEY: p.vmTagKey,
    VM_TAG_VALUE: p.vmTagValue,
    METRICS_PERIOD_SECONDS: String(p.metricsPeriodSeconds),
    FLEET_CACHE_TTL_SECONDS: String(p.fleetCacheTtlSeconds),
    LEASE_GRACE_SECONDS: String(p.leaseGraceSeconds),
    MAX_WAIT_SECONDS: String(p.maxWaitSeconds),
  };
}

/**
 * The whole service: API Gateway -> enqueue -> SQS -> scheduler -> DynamoDB ledger, with the read
 * and verify paths beside it.
 */
export class SchedulerStack extends Stack {
  readonly settings: ResolvedProps;

  constructor(scope: Construct, id: string, props: SchedulerStackProps = {}) {
    super(scope, id, props);
    const p = resolveProps(props.scheduler);
    validateProps(p);
    this.settings = p;
    const retain = !TEST_STAGES.includes(p.stage);
    const schedulerTimeout = Duration.seconds(p.schedulerTimeoutSeconds);

    const ledgerTable = new LedgerTable(this, 'Ledger', { retain, stream: p.dispatch });
    const { table } = ledgerTable;
    const queue = new TaskQueue(this, 'Tasks', {
      maxReceiveCount: p.maxReceiveCount,
      visibilityTimeout: Duration.seconds(p.schedulerTimeoutSeconds * 6),
      retain,
    });
    const environment = schedulingEnvironment(p, table.tableName);
    const alarms = new AlarmTopic(this, 'Alarms', { emails: p.alarmEmails, retain });
    alarms.notify(queue.deadLetterAlarm);
    alarms.notify(queue.exhaustedAlarm);

    // Completions reported to the API or by SSM: the lease closer (the Expire function) records them.
    const completions = new CompletionQueue(this, 'Completions', {
      visibilityTimeout: Duration.seconds(p.schedulerTimeoutSeconds * 6),
      retain,
    });
    alarms.notify(completions.deadLetterAlarm);

    const scheduler = new Scheduler(this, 'Scheduler', {
      completionQueue: completions.queue,
      table,
      queue: queue.queue,
      deadLetterQueue: queue.deadLetterQueue,
      environment,
      timeout: schedulerTimeout,
      batchSize: p.batchSize,
      maxBatchingWindow: Duration.seconds(p.maxBatchingWindowSeconds),
      maxConcurrency: p.maxConcurrency,
      retainLogs: retain,
      leaseSweepInterval: Duration.minutes(p.leaseSweepMinutes),
    });

    const enqueue = new ServiceFunction(this, 'Enqueue', {
      entry: 'enqueue.ts',
      description: 'Validates task submissions and puts them on the task queue',
      serviceName: 'enqueue',
      environment: {
        QUEUE_URL: queue.queue.queueUrl,
        TABLE_NAME: table.tableName,
        DIMENSIONS: p.dimensions.join(','),
        TASKS_PER_MESSAGE: String(p.tasksPerMessage),
      },
      retainLogs: retain,
    }).function;
    // Only SendMessage (SendMessageBatch is authorised as it): not the GetQueue* that grantSendMessages adds.
    enqueue.addToRolePolicy(
      new PolicyStatement({
        sid: 'EnqueueTasks',
        actions: ['sqs:SendMessage'],
        resources: [queue.queue.queueArn],
      }),
    );
    // Each accepted task's record (the idempotency check and GET /tasks/{id} `queued`).
    grantAcceptanceWrite(enqueue, table);

    // Reads only: completions go to the completion queue, which the lease closer records. The table's
    // policy denies this internet-facing function every chain write (restrictWrites below).
    const read = new ServiceFunction(this, 'Read', {
      entry: 'api.ts',
      description: 'Task and ledger reads, inclusion proofs, task completion',
      serviceName: 'api',
      // AUTH_MODE: the security the gateway's /openapi.json declares.
      environment: {
        ...environment,
        AUTH_MODE: p.authMode,
        COMPLETION_QUEUE_URL: completions.queue.queueUrl,
      },
      timeout: Duration.seconds(29),
      retainLogs: retain,
    }).function;
    grantLedgerRead(read, table, { scan: true });
    completions.grantSend(read);
    // GET /fleet lists the fleet.
    grantFleetRead(read);
    // POST /fleet/vms/{id}/drain tags the instance.
    grantFleetDrain(read, p.vmTagKey, p.vmTagValue);

    const autoScaling = resolveAutoScaling(p.autoScaling);
    const workers = autoScaling
      ? new WorkerGroup(this, 'Workers', {
          ...autoScaling,
          vmTagKey: p.vmTagKey,
          vmTagValue: p.vmTagValue,
          metricsNamespace: METRICS_NAMESPACE,
          fleetName: this.stackName,
          retainLogs: retain,
          commandTemplates: p.dispatchViaSsm ? p.commandTemplates : {},
        })
      : undefined;
    new FleetMonitor(this, 'FleetMonitor', {
      table,
      queue: queue.queue,
      environment,
      fleetName: this.stackName,
      autoScalingGroup: workers?.group,
      retainLogs: retain,
    });
    if (workers) {
      new CfnOutput(this, OUTPUTS.autoScalingGroupName, { value: workers.group.autoScalingGroupName });
      new ScaleInHook(this, 'ScaleIn', {
        group: workers.group,
        table,
        environment,
        vmTagKey: p.vmTagKey,
        vmTagValue: p.vmTagValue,
        settleSeconds: Math.ceil(p.fleetCacheTtlSeconds) + p.schedulerTimeoutSeconds,
        retainLogs: retain,
      });
    }

    const verifier = new Verifier(this, 'Verifier', {
      table,
      environment,
      interval: Duration.minutes(p.verifyIntervalMinutes),
      ...(p.verifyReservedConcurrency > 0 ? { reservedConcurrency: p.verifyReservedConcurrency } : {}),
      retainLogs: retain,
    });
    alarms.notify(verifier.invalidChainAlarm);
    const fullAudit = new FullAudit(this, 'FullAudit', {
      table,
      environment,
      digestKey: verifier.digestKey,
      maxConcurrency: p.fullAuditMaxConcurrency,
      retainLogs: retain,
    });
    verifier.startsFullAudits(fullAudit.stateMachine, p.fullAuditBlocksPerRange);

    const http = new SchedulerApi(this, 'Http', {
      stageName: p.stage,
      authMode: p.authMode,
      cloudWatchRole: p.cloudWatchRole,
      dimensions: p.dimensions,
      enqueueFunction: enqueue,
      readFunction: read,
      verifyFunction: verifier.function,
      throttlingRateLimit: p.throttlingRateLimit,
      throttlingBurstLimit: p.throttlingBurstLimit,
      retainLogs: retain,
      checkpoint: p.transparencyLog,
    });

    new CfnOutput(this, OUTPUTS.apiUrl, { value: http.api.url, description: 'Base URL of the HTTP API' });
    new CfnOutput(this, OUTPUTS.tableName, { value: table.tableName });
    new CfnOutput(this, OUTPUTS.queueName, { value: queue.queue.queueName });
    new CfnOutput(this, OUTPUTS.deadLetterQueueName, { value: queue.deadLetterQueue.queueName });
    // What `bcs --stack` and the deploy guide read instead of asking the operator to copy ids.
    new CfnOutput(this, OUTPUTS.apiId, { value: http.api.restApiId });
    new CfnOutput(this, OUTPUTS.apiStage, { value: http.api.deploymentStage.stageName });
    new CfnOutput(this, OUTPUTS.emulatorApiPath, {
      value: `/_aws/execute-api/${http.api.restApiId}/${http.api.deploymentStage.stageName}/`,
      description: 'On a LocalStack-compatible emulator the API is served at $AWS_ENDPOINT_URL + this path',
    });
    new CfnOutput(this, OUTPUTS.digestKeyArn, {
      value: verifier.digestKey.keyArn,
      description: 'KMS key that signs head digests: bcs ledger public-key --kms-key-id <arn>',
    });
    new CfnOutput(this, OUTPUTS.verifyFunctionName, { value: verifier.function.functionName });
    if (p.transparencyLog) {
      const log = new LogPublisher(this, 'TransparencyLog', {
        table,
        environment,
        digestKey: verifier.digestKey,
        ...(p.logOrigin ? { origin: p.logOrigin } : {}),
        interval: Duration.minutes(p.logPublishMinutes),
        witnesses: p.witnesses,
        witnessAlarmPeriod: Duration.minutes(p.witnessAlarmMinutes),
        objectLockDays: p.logObjectLockDays,
        cloudFront: p.logCloudFront,
        retain,
      });
      if (log.noCosignatureAlarm) alarms.notify(log.noCosignatureAlarm);
      // GET /checkpoint: the read function serves the checkpoint object, and only it.
      read.addEnvironment('LOG_BUCKET', log.bucket.bucketName);
      read.addToRolePolicy(
        new PolicyStatement({
          sid: 'CheckpointRead',
          actions: ['s3:GetObject'],
          resources: [log.bucket.arnForObjects('checkpoint')],
        }),
      );
      // So that S3 answers 404 NoSuchKey before the first publication (403 AccessDenied without it),
      // which GET /checkpoint turns into its 404. Not narrowed by an s3:prefix condition: S3 documents
      // the 404 for callers with ListBucket, not how a conditional one counts; the names it lists
      // (checkpoint, tile/...) are the public log's anyway.
      read.addToRolePolicy(
        new PolicyStatement({
          sid: 'CheckpointExists',
          actions: ['s3:ListBucket'],
          resources: [log.bucket.bucketArn],
        }),
      );
      new CfnOutput(this, OUTPUTS.logBucketName, {
        value: log.bucket.bucketName,
        description:
          'The ledger as a tiled transparency log: checkpoint and tile/ (docs/ledger-format.md section 12)',
      });
      new CfnOutput(this, OUTPUTS.publishLogFunctionName, { value: log.function.functionName });
    }
    if (p.dispatch) {
      const dispatch = new Dispatch(this, 'Dispatch', {
        table,
        scheduler: scheduler.function,
        environment,
        completions,
        viaSsm: p.dispatchViaSsm,
        commandTemplates: p.commandTemplates,
        vmTagKey: p.vmTagKey,
        vmTagValue: p.vmTagValue,
        retainLogs: retain,
      });
      alarms.notify(dispatch.failureAlarm);
      new CfnOutput(this, OUTPUTS.eventBusName, {
        value: dispatch.bus.eventBusName,
        description: 'TaskAssigned events (source bcs.scheduler): subscribe with a rule on this bus',
      });
      if (p.agents) {
        const agents = new AgentFeed(this, 'Agents', {
          dispatchFunction: dispatch.function,
          api: http.api,
          instanceRoles: workers ? [workers.role] : [],
        });
        new CfnOutput(this, OUTPUTS.agentQueuePrefix, {
          value: agents.queuePrefix,
          description:
            "Each instance's TaskAssigned queue is <prefix><instance id> (bcs agent --stack finds it)",
        });
        new CfnOutput(this, OUTPUTS.agentInstanceProfileName, {
          value: agents.instanceProfile.ref,
          description: 'Instance profile for fleet instances that run bcs agent',
        });
      }
    }
    // Who may write chain items, whatever IAM grants elsewhere in the account (ledger-table.ts).
    const roleOf = (fn: { role?: IRole }) => {
      if (!fn.role) throw new Error('every function of the stack has its own role');
      return fn.role;
    };
    ledgerTable.restrictWrites({
      chain: [scheduler.function, scheduler.expireFunction].map(roleOf),
      digests: [roleOf(verifier.function), roleOf(fullAudit.mergeFunction)],
    });
    if (http.apiKey) {
      new CfnOutput(this, OUTPUTS.apiKeyId, {
        value: http.apiKey.keyId,
        description: 'aws apigateway get-api-key --include-value --api-key <id> prints the key',
      });
    }
  }
}
