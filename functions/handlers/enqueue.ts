import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { invalid, json, parseJsonBody, problem } from '../../lib/adapters/apigateway/proxy-responses';
import { isAwsUnavailable } from '../../lib/adapters/aws/transient-error';
import { type AcceptOutcome, acceptTasks, TaskConflictError } from '../../lib/engine/task-intake';
import { ValidationError } from '../../lib/errors';
import type { Dimensions } from '../../lib/model/resources';
import type { Task } from '../../lib/model/task';
import type { Clock } from '../../lib/ports/clock';
import type { TaskAcceptances } from '../../lib/ports/task-acceptances';
import type { TaskSender } from '../../lib/ports/task-sender';
import { conflictBody, parseTaskSubmission, type SubmitResponse } from '../../lib/schemas/http';
import { decodeUtf8, parseJsonText } from '../../lib/schemas/json-body';
import { toTask } from '../../lib/schemas/task-input';

/** Largest body accepted; the gateway's model bounds it too, this holds when invoked directly. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface EnqueueDeps {
  sender: TaskSender;
  /** ACCEPTED# items of the ledger table: the idempotency check and GET /tasks/{id} `queued`. */
  acceptances: TaskAcceptances;
  dimensions: Dimensions;
  clock: Clock;
  newId: () => string;
}

/**
 * Seconds a client should wait after a 503. The SDK has already retried throttling with backoff
 * before the error reaches the handler, so the queue needs a moment, not a tight loop of clients.
 */
export const RETRY_AFTER_S = 2;

/**
 * Whether an error from SQS means "try again later": throttling, a timeout or broken connection,
 * or any 5xx, as the AWS SDK itself classifies them. Anything else (access denied, no such queue)
 * would fail the same way on retry.
 */
export function isQueueUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  return SQS_THROTTLING.has(String((err as { name?: unknown }).name)) || isAwsUnavailable(err);
}

/** SQS's own throttling errors that the SDK's generic classification does not know (SSE-KMS queues). */
const SQS_THROTTLING = new Set(['KmsThrottled']);

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : 'Error';
}

/** 503 with Retry-After: the client's cue to back off and resubmit. */
function retryLater(body: Record<string, unknown>): APIGatewayProxyResult {
  const res = json(503, body);
  return { ...res, headers: { ...res.headers, 'retry-after': String(RETRY_AFTER_S) } };
}

/**
 * The gateway's model only applies to application/json requests; a body declared as anything else
 * reaches the function unvalidated and is refused here, as the local server does.
 */
const JSON_TYPE = /^application\/json\s*(?:;|$)/i;

/** Header names arrive as the client spelled them. */
function headerValue(headers: APIGatewayProxyEvent['headers'], name: string): string | undefined {
  for (const [key, value] of Object.entries(headers ?? {})) if (key.toLowerCase() === name) return value;
  return undefined;
}

/**
 * The body as JSON. A binary (base64) body is decoded as strict UTF-8, so bytes that are not UTF-8
 * are refused rather than queued as U+FFFD; "__proto__" keys are refused at any depth.
 *
 * A text body has already been decoded by API Gateway, which puts U+FFFD where the client's bytes were
 * not UTF-8 (the REST API declares no binary media types, so JSON always arrives as text). The damage
 * cannot be told apart from a client that sent U+FFFD itself, so a raw U+FFFD in a text body is
 * refused: otherwise the ledger would record a command or label the client never sent. A client
 * that means the character can send it escaped (\ufffd), which JSON.parse turns into U+FFFD.
 */
function readBody(event: APIGatewayProxyEvent): unknown {
  if (event.body === null || event.body === '') return parseJsonBody(event.body, false);
  if (event.isBase64Encoded) return parseJsonText(decodeUtf8(Buffer.from(event.body, 'base64')));
  if (event.body.includes(REPLACEMENT_CHARACTER)) {
    throw new ValidationError(
      [
        {
          field: '',
          message: 'request body is not UTF-8 (it holds U+FFFD, which replaces bytes that were not)',
        },
      ],
      'invalid request body',
    );
  }
  return parseJsonText(event.body);
}

const REPLACEMENT_CHARACTER = '\uFFFD';

/**
 * POST /tasks, the same contract as the local runtime: the whole submission is validated first
 * (nothing is queued when any task is invalid), then each task is claimed with a conditional write of
 * its acceptance record carrying the SHA-256 of its canonical body (lib/engine/task-intake.ts), then
 * the tasks are published packed several to a message (SqsTaskSender: up to its tasksPerMessage,
 * within SQS's 256 KiB), then their records are marked queued.
 * 202 `{accepted, duplicates}`, only when every task reached the queue; `duplicates` lists ids
 * already accepted with the same body, and ids repeated within the request with the same body.
 * 409 naming the ids submitted before (or twice in this request) with a different body: nothing
 * queued, none of this request's claims kept. 400 naming each bad field; 503 with Retry-After and
 * the ids that did and did not reach the queue when SQS refuses some, or when SQS or DynamoDB
 * throttles, times out or fails (resubmitting all of them is safe: an unqueued claim with the same
 * body is queued again, and the ledger records a task id once). Any other error (access denied, no
 * such queue) is thrown: a retry cannot help.
 */
export function enqueueHandler(deps: EnqueueDeps) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    if (event.body && Buffer.byteLength(event.body) > MAX_BODY_BYTES) {
      return problem(413, 'PayloadTooLarge', `request body exceeds ${MAX_BODY_BYTES} bytes`);
    }
    const type = headerValue(event.headers, 'content-type') ?? '';
    if (!JSON_TYPE.test(type)) {
      return problem(
        415,
        'UnsupportedMediaType',
        `content type ${JSON.stringify(type)} is not accepted; send application/json`,
      );
    }
    let tasks: Task[];
    const now = deps.clock.now();
    try {
      const inputs = parseTaskSubmission(readBody(event), deps.dimensions);
      tasks = inputs.map((input) => toTask(input, deps.dimensions, now, deps.newId));
    } catch (err) {
      if (err instanceof ValidationError) return invalid(err);
      throw err;
    }
    let outcome: AcceptOutcome;
    try {
      outcome = await acceptTasks(tasks, {
        acceptances: deps.acceptances,
        now,
        send: (batch) => deps.sender.send(batch),
      });
    } catch (err) {
      if (err instanceof TaskConflictError) return json(409, conflictBody(err));
      // Earlier chunks may have reached the queue before the failing call; which ones is unknown,
      // so nothing is reported accepted. Resubmitting all is safe (see above).
      if (!isQueueUnavailable(err)) throw err;
      const ids = [...new Set(tasks.map((t) => t.id))];
      return retryLater({
        error: 'QueueUnavailable',
        message: `the task queue is unavailable (${errorName(err)}); none of the ${ids.length} tasks is confirmed queued, resubmitting them all is safe`,
        accepted: [],
        failed: ids.map((id) => ({ id, reason: errorName(err) })),
      });
    }
    const { accepted, duplicates, failed } = outcome;
    if (failed.length > 0) {
      return retryLater({
        error: 'QueueUnavailable',
        message: `${failed.length} of ${accepted.length + failed.length} tasks were not queued; resubmitting them all is safe`,
        accepted,
        failed,
      });
    }
    return json(202, { accepted, duplicates } satisfies SubmitResponse);
  };
}
