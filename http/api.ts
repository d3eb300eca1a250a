import { Hono } from 'hono';
import type { AuditJob } from '../lib/engine/audit-job';
import type { LedgerReader } from '../lib/engine/ledger-reader';
import { NotFoundError, parseOrThrow } from '../lib/errors';
import { blocksPage } from '../lib/ledger/blocks-page';
import type { SignedDigest } from '../lib/ledger/signed-digest';
import type { TaskOutcome } from '../lib/ledger/types';
import type { LedgerStore } from '../lib/ports/ledger-store';
import {
  auditJobPathSchema,
  blocksQuerySchema,
  completeBodySchema,
  consistencyQuerySchema,
  digestQuerySchema,
  taskPathSchema,
  transactionPathSchema,
} from '../lib/schemas/api';
import type {
  AuditJobResponse,
  CompleteResponse,
  LedgerSummaryResponse,
  TaskStatusResponse,
} from '../lib/schemas/http';
import { readOptionalJson } from './errors';

/**
 * What the routes both runtimes serve need from a runtime: reads of the ledger and of task state,
 * and the one command they share (completion). The local runtime answers from SQLite and its queue,
 * the API Lambda from DynamoDB.
 */
export interface SchedulerApi {
  /** The task's state; null when the runtime knows no such task. */
  taskStatus(id: string): Promise<TaskStatusResponse | null>;
  /** The 404 message for a task `taskStatus` does not know (default `no task <id>`). */
  missingTaskMessage?(id: string): string;
  /**
   * Records how an assigned task ended (completed, or failed by its outcome; none when the client sent
   * no body); null when no such task was assigned.
   */
  complete(id: string, outcome?: TaskOutcome): Promise<CompleteResponse | null>;
  /** The followed chain: summary, digest, proofs. */
  ledger(): Promise<Pick<LedgerReader, 'summary' | 'digest' | 'consistencyBetween' | 'transaction'>>;
  store(): Promise<Pick<LedgerStore, 'readHead' | 'getBlocks'>>;
  /**
   * Signs the current digest (GET /ledger/digest?signed=1). Without it the route takes no query: the
   * AWS deployment signs on its schedule only.
   */
  signedDigest?(): Promise<SignedDigest>;
  /** A full re-audit's job (GET /ledger/verify/{id}); null when there is no such job. */
  auditJob(id: string): Promise<AuditJob | null>;
}

/**
 * The routes both runtimes serve, with the payloads of lib/schemas/http.ts: task status and
 * completion, the ledger summary, blocks, digests, consistency and inclusion proofs. The local runtime
 * mounts it beside its local-only routes (runtime/http/app.ts), the API Lambda beside the fleet routes
 * (functions/handlers/api.ts); each adds the one error handler of http/errors.ts.
 */
export function schedulerApi(api: SchedulerApi): Hono {
  const app = new Hono();

  app.get('/tasks/:id', async (c) => {
    const { id } = parseOrThrow(taskPathSchema, c.req.param(), 'invalid task id');
    const status = await api.taskStatus(id);
    if (!status) throw new NotFoundError(api.missingTaskMessage?.(id) ?? `no task ${id}`);
    return c.json(status);
  });

  app.post('/tasks/:id/complete', async (c) => {
    const { id } = parseOrThrow(taskPathSchema, c.req.param(), 'invalid task id');
    const body = await readOptionalJson(c);
    const outcome =
      body === undefined ? undefined : parseOrThrow(completeBodySchema, body, 'invalid completion').outcome;
    const result = await api.complete(id, outcome);
    if (!result) throw new NotFoundError(`no assigned task ${id}`);
    return c.json(result, result.status === 'accepted' ? 202 : 200);
  });

  app.get('/ledger', async (c) =>
    c.json((await (await api.ledger()).summary()) satisfies LedgerSummaryResponse),
  );

  app.get('/ledger/blocks', async (c) => {
    const { from, limit } = parseOrThrow(blocksQuerySchema, c.req.query(), 'invalid query');
    const store = await api.store();
    const head = await store.readHead();
    // Capped by bytes too: Lambda refuses a response over 6 MB.
    return c.json(blocksPage(head.height, await store.getBlocks(from, limit)));
  });

  // What an auditor keeps to detect a rollback later (lib/ledger/types.ts Digest), signed on request.
  app.get('/ledger/digest', async (c) => {
    if (api.signedDigest) {
      const { signed } = parseOrThrow(digestQuerySchema, c.req.query(), 'invalid query');
      if (signed) return c.json(await api.signedDigest());
    }
    return c.json(await (await api.ledger()).digest());
  });

  // RFC 9162 consistency proof between two digests (docs/ledger-format.md section 7.2).
  app.get('/ledger/consistency', async (c) => {
    const { from, to } = parseOrThrow(consistencyQuerySchema, c.req.query(), 'invalid query');
    return c.json(await (await api.ledger()).consistencyBetween(from, to));
  });

  // A full re-audit started by POST /ledger/verify {"full": true} (docs/ledger-format.md section 10.3).
  app.get('/ledger/verify/:id', async (c) => {
    const { id } = parseOrThrow(auditJobPathSchema, c.req.param(), 'invalid job id');
    const job = await api.auditJob(id);
    if (!job) throw new NotFoundError(`no audit job ${id}`);
    return c.json(job satisfies AuditJobResponse);
  });

  app.get('/ledger/transactions/:id', async (c) => {
    const { id } = parseOrThrow(transactionPathSchema, c.req.param(), 'invalid transaction id');
    const found = await (await api.ledger()).transaction(id);
    if (!found) throw new NotFoundError(`no transaction ${id}`);
    return c.json(found.proof);
  });

  return app;
}
