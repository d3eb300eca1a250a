import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  ApiKeySourceType,
  AuthorizationType,
  EndpointType,
  type IApiKey,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  type MethodOptions,
  Model,
  RequestValidator,
  ResponseType,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { Dimensions } from '../../../lib/model/resources';
import { CHECKOV_REASONS, skipCheckov } from '../checkov';
import type { AuthMode } from '../props';
import { taskSubmissionJsonSchema } from '../task-submission-model';

/** Seconds a throttled client is told to wait: a token bucket refills within a second at any rate of 1/s or more. */
export const THROTTLED_RETRY_AFTER_S = 1;

export interface SchedulerApiProps {
  readonly stageName: string;
  readonly authMode: AuthMode;
  readonly cloudWatchRole: boolean;
  readonly dimensions: Dimensions;
  /** POST /tasks. */
  readonly enqueueFunction: IFunction;
  /** Task reads, completion and ledger reads. */
  readonly readFunction: IFunction;
  /** POST /ledger/verify. */
  readonly verifyFunction: IFunction;
  readonly throttlingRateLimit: number;
  readonly throttlingBurstLimit: number;
  /** Keep the access logs when the stack goes (outside test stages). */
  readonly retainLogs: boolean;
  /** GET /checkpoint (the read function reads it from the log bucket). */
  readonly checkpoint: boolean;
}

/**
 * POST /ledger/verify reads the whole chain on a 1 GB function: its own, much lower throttle, so
 * that a caller cannot hold verify functions busy (and take the account's concurrency from the
 * scheduler) at the stage's rate.
 */
export const VERIFY_METHOD_PATH = '/ledger/verify/POST';
export const VERIFY_THROTTLE = { throttlingRateLimit: 1, throttlingBurstLimit: 2 } as const;

/**
 * The REST API. Every method requires SigV4 (IAM) unless `authMode` is 'api-key', in which case every
 * method requires a key from the usage plan instead. Bodies and parameters are validated at the
 * gateway and again, with field-level errors, in the functions.
 */
export class SchedulerApi extends Construct {
  readonly api: RestApi;
  /** The usage plan's key, in 'api-key' mode. */
  readonly apiKey?: IApiKey;

  constructor(scope: Construct, id: string, props: SchedulerApiProps) {
    super(scope, id);
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    skipCheckov(accessLogs, { id: 'CKV_AWS_158', reason: CHECKOV_REASONS.logsDefaultEncryption });
    const iam = props.authMode === 'iam';
    this.api = new RestApi(this, 'Api', {
      restApiName: `${Stack.of(this).stackName}-api`,
      description: 'Blockchain cloud scheduler: submit tasks, read and verify the ledger',
      endpointTypes: [EndpointType.REGIONAL],
      cloudWatchRole: props.cloudWatchRole,
      apiKeySourceType: iam ? undefined : ApiKeySourceType.HEADER,
      defaultMethodOptions: iam
        ? { authorizationType: AuthorizationType.IAM }
        : { authorizationType: AuthorizationType.NONE, apiKeyRequired: true },
      deployOptions: {
        stageName: props.stageName,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        tracingEnabled: true,
        throttlingRateLimit: props.throttlingRateLimit,
        throttlingBurstLimit: props.throttlingBurstLimit,
        methodOptions: { [VERIFY_METHOD_PATH]: VERIFY_THROTTLE },
      },
    });

    skipCheckov(this.api.deploymentStage, {
      id: 'CKV_AWS_120',
      reason:
        'Responses must be current: a task status, the chain head and its digest change with every commit, so a gateway cache would serve stale state; reads are cheap key lookups.',
    });

    // The gateway's own 429 carries no Retry-After; clients of a throttled stage get the same hint
    // as the enqueue function's 503 and the local runtime's 429.
    this.api.addGatewayResponse('Throttled', {
      type: ResponseType.THROTTLED,
      responseHeaders: { 'Retry-After': `'${THROTTLED_RETRY_AFTER_S}'` },
    });

    const bodyValidator = new RequestValidator(this, 'BodyValidator', {
      restApi: this.api,
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const paramsValidator = new RequestValidator(this, 'ParamsValidator', {
      restApi: this.api,
      validateRequestBody: false,
      validateRequestParameters: true,
    });
    const submission = new Model(this, 'TaskSubmissionModel', {
      restApi: this.api,
      contentType: 'application/json',
      modelName: 'TaskSubmission',
      schema: taskSubmissionJsonSchema(props.dimensions),
    });

    const enqueue = new LambdaIntegration(props.enqueueFunction);
    const read = new LambdaIntegration(props.readFunction);
    const verify = new LambdaIntegration(props.verifyFunction);
    const withId: MethodOptions = {
      requestParameters: { 'method.request.path.id': true },
      requestValidator: paramsValidator,
    };

    const tasks = this.api.root.addResource('tasks');
    tasks.addMethod('POST', enqueue, {
      requestModels: { 'application/json': submission },
      requestValidator: bodyValidator,
    });
    const task = tasks.addResource('{id}');
    task.addMethod('GET', read, withId);
    task.addResource('complete').addMethod('POST', read, withId);

    const ledger = this.api.root.addResource('ledger');
    ledger.addMethod('GET', read, { requestValidator: paramsValidator });
    ledger.addResource('blocks').addMethod('GET', read, {
      requestParameters: {
        'method.request.querystring.from': false,
        'method.request.querystring.limit': false,
      },
      requestValidator: paramsValidator,
    });
    ledger.addResource('transactions').addResource('{id}').addMethod('GET', read, withId);
    ledger.addResource('digest').addMethod('GET', read, { requestValidator: paramsValidator });
    ledger.addResource('consistency').addMethod('GET', read, {
      requestParameters: {
        'method.request.querystring.from': true,
        'method.request.querystring.to': false,
      },
      requestValidator: paramsValidator,
    });
    const verifyResource = ledger.addResource('verify');
    const verifyMethod = verifyResource.addMethod('POST', verify, { requestValidator: paramsValidator });
    // A full re-audit's job (AUDIT# item), read by the API function.
    verifyResource.addResource('{id}').addMethod('GET', read, withId);

    // The fleet as the ledger sees it, and draining (docs/aws.md, "Scaling and draining").
    const fleet = this.api.root.addResource('fleet');
    fleet.addMethod('GET', read, { requestValidator: paramsValidator });
    fleet.addResource('vms').addResource('{id}').addResource('drain').addMethod('POST', read, withId);

    // The OpenAPI document of the routes the read function serves (lib/schemas/openapi.ts).
    if (props.checkpoint)
      this.api.root.addResource('checkpoint').addMethod('GET', read, { requestValidator: paramsValidator });
    this.api.root.addResource('openapi.json').addMethod('GET', read, { requestValidator: paramsValidator });

    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions-COG4',
        reason: iam
          ? 'Callers authenticate with SigV4 (IAM authorization); the API has no end users to sign in.'
          : 'The api-key mode serves machine clients through a usage plan; the API has no end users to sign in.',
      },
      {
        id: 'AwsSolutions-APIG3',
        reason:
          'Every method requires SigV4 or an API key and is throttled at the stage; a WAF web ACL can be attached by the operator where the account uses WAF.',
      },
    );
    if (!iam) {
      Validations.of(this).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          "api-key mode is the operator's explicit choice (context authMode=api-key) for clients that cannot sign requests; every method still requires a key from the usage plan. The default, iam, authorizes with SigV4.",
      });
    }
    if (props.cloudWatchRole) {
      Validations.of(this).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          "The account-level role API Gateway assumes to write execution logs; AWS's managed policy is the documented one for it.",
      });
    }
    if (!iam) {
      const plan = this.api.addUsagePlan('UsagePlan', {
        description: 'Callers of the scheduler API',
        throttle: { rateLimit: props.throttlingRateLimit, burstLimit: props.throttlingBurstLimit },
      });
      plan.addApiStage({
        stage: this.api.deploymentStage,
        throttle: [
          {
            method: verifyMethod,
            throttle: {
              rateLimit: VERIFY_THROTTLE.throttlingRateLimit,
              burstLimit: VERIFY_THROTTLE.throttlingBurstLimit,
            },
          },
        ],
      });
      this.apiKey = this.api.addApiKey('ApiKey', { description: 'Default key of the scheduler API' });
      plan.addApiKey(this.apiKey);
    }
  }
}
