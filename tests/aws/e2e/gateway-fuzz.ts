import fc from 'fast-check';
import {
  type HostileRequest,
  hostileBlockQueries,
  hostileBodyRequests,
  hostileCompletions,
  hostileTaskArrays,
  hostileTaskLookups,
  hostileTransactionLookups,
  judge,
  taskRoute,
} from '../../unit/fuzz/hostile';
import { sendRaw } from '../../unit/fuzz/raw-http';
import { emulatorSigner } from './signed-fetch';

/**
 * Issue 5, "Bad input", through the deployed API Gateway: the hostile requests of tests/unit/fuzz
 * for the routes the stack serves (POST /tasks, task and transaction reads, completion, block pages),
 * sent signed with SigV4 as raw bytes, so bodies that are not UTF-8 or not JSON reach the gateway
 * exactly as written.
 */

/**
 * Hostile requests for the routes the stack's API serves (no /config, /generator or /fleet/vms
 * bodies). Task bodies that are not UTF-8 are included: the REST API has no binary media types, so
 * the gateway hands the function text it already decoded with U+FFFD in place of the bad bytes,
 * which the enqueue function refuses.
 */
export function gatewayRequests(now: number): fc.Arbitrary<HostileRequest> {
  const tasks = fc.oneof(
    { weight: 2, arbitrary: hostileBodyRequests(taskRoute(now)) },
    { weight: 1, arbitrary: hostileTaskArrays(now) },
  );
  return fc.oneof(
    { weight: 6, arbitrary: tasks },
    { weight: 1, arbitrary: hostileTaskLookups },
    { weight: 1, arbitrary: hostileCompletions },
    { weight: 1, arbitrary: hostileTransactionLookups },
    { weight: 1, arbitrary: hostileBlockQueries },
  );
}

export interface GatewayAnswer {
  status: number;
  body: unknown;
}

/**
 * Sends one hostile request to the stage at `baseUrl` (ending in "/"), SigV4-signed over its exact
 * bytes. node:http rather than fetch: the path goes out verbatim (fetch would normalise "%%" and
 * friends), and an answer that closes the connection mid-upload still counts as the answer.
 */
export async function sendSigned(baseUrl: string, request: HostileRequest): Promise<GatewayAnswer> {
  const base = new URL(baseUrl);
  const rawPath = `${base.pathname.replace(/\/$/, '')}${request.path}`;
  const [pathname, search = ''] = rawPath.split('?', 2) as [string, string?];
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  const headers: Record<string, string> = { host: base.host };
  if (body) {
    headers['content-type'] = request.contentType;
    headers['content-length'] = String(body.length);
  }
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(search)) query[k] = v;
  const signed = await emulatorSigner.sign({
    method: request.method,
    protocol: base.protocol,
    hostname: base.hostname,
    port: base.port ? Number(base.port) : undefined,
    path: pathname,
    query,
    headers,
    body,
  });
  return sendRaw(
    { host: base.hostname, port: base.port, method: request.method, path: rawPath, headers: signed.headers },
    body,
    request.label,
    30_000,
  );
}

/**
 * What is wrong with the gateway's answer to `request` (empty when right): the same contract as the
 * local API and the functions in-process.
 */
export function judgeAtGateway(request: HostileRequest, answer: GatewayAnswer): string[] {
  if (gatewayModelRefusal(request, answer)) return [];
  return judge(request, answer.status, answer.body);
}

/**
 * API Gateway's own refusal of a POST /tasks body its envelope model (cdk/lib/task-submission-model.ts)
 * rejects: a fixed 400 that cannot name the field, by design. On AWS it answers first for such bodies;
 * the emulator (MiniStack 1.5.33) let every body through to the function in our runs.
 */
export function gatewayModelRefusal(request: HostileRequest, answer: GatewayAnswer): boolean {
  const body = answer.body as { message?: unknown } | null;
  return (
    request.method === 'POST' &&
    request.path === '/tasks' &&
    request.status === undefined &&
    answer.status === 400 &&
    typeof body === 'object' &&
    body !== null &&
    Object.keys(body).length === 1 &&
    body.message === 'Invalid request body'
  );
}

/**
 * Sends every request, `concurrency` at a time, and returns one line per wrong answer. A 429 (the
 * stage's throttle) is sent again after a pause: it refuses nothing about the request itself.
 */
export async function fuzzGateway(
  baseUrl: string,
  requests: readonly HostileRequest[],
  concurrency = 4,
): Promise<{ sent: number; failures: string[]; statuses: Record<number, number> }> {
  const failures: string[] = [];
  const statuses: Record<number, number> = {};
  let next = 0;
  let sent = 0;
  const worker = async () => {
    for (let i = next++; i < requests.length; i = next++) {
      const request = requests[i]!;
      let answer = await sendSigned(baseUrl, request);
      sent++;
      for (let retry = 0; answer.status === 429 && retry < 5; retry++) {
        await new Promise((r) => setTimeout(r, 1000));
        answer = await sendSigned(baseUrl, request);
      }
      statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
      const problems = judgeAtGateway(request, answer);
      if (problems.length > 0) failures.push(`${request.label.slice(0, 160)}: ${problems.join('; ')}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { sent, failures, statuses };
}
