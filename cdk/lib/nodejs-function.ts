import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CHECKOV_REASONS, skipCheckov } from './checkov';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ServiceFunctionProps {
  /** File under functions/, e.g. 'scheduler.ts'. */
  readonly entry: string;
  readonly environment: Record<string, string>;
  readonly description: string;
  /** @default Duration.seconds(15) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** Keep the log group when the stack goes (outside test stages). */
  readonly retainLogs: boolean;
  /** Powertools service name. */
  readonly serviceName: string;
  /** Concurrent executions reserved for (and capping) this function. @default none reserved */
  readonly reservedConcurrentExecutions?: number;
}

/** Powertools' metrics namespace for every function of the stack; the alarms read from it. */
export const METRICS_NAMESPACE = 'BlockchainCloudScheduler';

/**
 * How every function is bundled; bench/lambda-bundles.ts builds the same bundles with these options
 * to measure their size and start-up.
 */
export const FUNCTION_BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  target: 'node22',
  platform: 'node',
  externalModules: [],
  sourceMap: true,
  minify: true,
  mainFields: ['module', 'main'],
  // Some bundled CommonJS dependencies call require(); ESM output has no require of its own.
  banner:
    "import { createRequire as __bcsCreateRequire } from 'node:module'; const require = __bcsCreateRequire(import.meta.url);",
};

/**
 * One Lambda function of the service: Node 22, bundled by esbuild as ESM with everything inside
 * (the AWS SDK included: the emulator's runtime does not provide it, and a pinned SDK is what the
 * tests ran against), source maps on, and an explicit log group instead of the log-retention custom
 * resource.
 */
export class ServiceFunction extends Construct {
  readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);
    const logGroup = new LogGroup(this, 'Logs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    // An own role instead of AWSLambdaBasicExecutionRole: logs may go to this function's group only.
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the ${props.serviceName} function`,
    });
    logGroup.grantWrite(role);
    this.function = new NodejsFunction(this, 'Function', {
      role,
      entry: fileURLToPath(new URL(`../../functions/${props.entry}`, import.meta.url)),
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(15),
      ...(props.reservedConcurrentExecutions !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions }
        : {}),
      tracing: Tracing.ACTIVE,
      logGroup,
      projectRoot: REPO_ROOT,
      depsLockFilePath: `${REPO_ROOT}package-lock.json`,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        // Stack traces in the logs point at functions/ and lib/ sources, not the minified bundle.
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: FUNCTION_BUNDLING,
    });
    skipCheckov(logGroup, { id: 'CKV_AWS_158', reason: CHECKOV_REASONS.logsDefaultEncryption });
    skipCheckov(
      this.function,
      {
        id: 'CKV_AWS_115',
        reason:
          'Concurrency is bounded where it matters: the SQS event source has maxConcurrency, the scheduled functions run once per period, and the gateway throttles the API; reserving concurrency per function would take it from the account pool whether used or not.',
      },
      {
        id: 'CKV_AWS_116',
        reason:
          'No function here is invoked asynchronously with work to lose: the scheduler is fed by SQS (the task queue has its DLQ), dispatch by the table stream (its on-failure queue), the API functions synchronously, and the scheduled ones are replaced by their next run (retryAttempts 0 in their EventInvokeConfig).',
      },
      {
        id: 'CKV_AWS_117',
        reason:
          'The functions reach only AWS APIs (DynamoDB, SQS, EC2, CloudWatch, KMS, SSM, EventBridge) with IAM; a VPC would add NAT gateways or interface endpoints and protect nothing reachable only inside one.',
      },
      {
        id: 'CKV_AWS_173',
        reason:
          'The environment holds configuration only (table and queue names, algorithm parameters), never a secret; Lambda encrypts it at rest with its service key.',
      },
    );
    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions-L1',
        reason:
          'nodejs22.x is the runtime the functions are built and tested for (the code base supports Node 20+); moving runtimes is a deliberate, tested change.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray (xray:PutTraceSegments, xray:PutTelemetryRecords) and, for the scheduler, ec2:Describe* and cloudwatch:GetMetricData have no resource-level permissions; AWS documents Resource "*" for them.',
      },
    );
  }
}
