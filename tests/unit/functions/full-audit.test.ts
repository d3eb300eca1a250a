import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiApp } from '../../../functions/handlers/api';
import { auditMergeHandler, auditRangeHandler } from '../../../functions/handlers/full-audit';
import { verifyHandler } from '../../../functions/handlers/verify';
import { LocalKeySigner } from '../../../lib/adapters/local-key';
import { MemoryAuditJobs } from '../../../lib/adapters/memory/memory-audit-jobs';
import type { AuditJob } from '../../../lib/engine/audit-job';
import type { AuditCheckpoint } from '../../../lib/engine/incremental-audit';
import { verifySignedDigest } from '../../../lib/ledger/signed-digest';
import type { Block } from '../../../lib/ledger/types';
import { verifyChain } from '../../../lib/ledger/verify';
import type { AuditJobRunner } from '../../../lib/ports/audit-jobs';
import { ManualClock } from '../../../lib/ports/clock';
import type { LedgerStore } from '../../../lib/ports/ledger-store';
import type { SignedDigestLog } from '../../../lib/ports/signed-digest-log';
import { MemoryCompletionQueue } from './helpers/completion-queue';
import { apiEvent } from './helpers/events';
import { ledger, RecordingLogger, RecordingMetrics, T0, task, vm } from './helpers/fixtures';

/**
 * POST /ledger/verify {"full": true} on AWS, with the state machine played in process: the runner
 * invokes the range handler once per range of the execution input, then the merge handler (or, when
 * `failRange` is set, the merge handler with the error the Map's Catch would pass).
 */
let dir: string;
let signer: LocalKeySigner;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'full-audit-'));
  signer = await LocalKeySigner.open(join(dir, 'key.pem'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function tampered(store: LedgerStore, height: number, change: (b: Block) => Block): LedgerStore {
  return Object.assign(Object.create(store), {
    getBlocks: async (from: number, limit: number) =>
      (await store.getBlocks(from, limit)).map((b) => (b.height === height ? change(b) : b)),
    getBlock: async (h: number) => {
      const b = await store.getBlock(h);
      return b && h === height ? change(b) : b;
    },
  });
}

async function setup(opts: { tamperAt?: number; failRange?: boolean; blocksPerRange?: number } = {}) {
  const { store, engine } = ledger([vm('vm-a', { cpu: 1000, mem: 1000, io: 100, bw: 100 })]);
  for (let i = 0; i < 12; i++) {
    await engine.schedule([task(`t-${i}`, { cpu: 1, mem: 1, io: 0, bw: 0 })]);
    if (i % 3 === 2) await engine.complete(`t-${i - 1}`);
  }
  const seen =
    opts.tamperAt === undefined
      ? store
      : tampered(store, opts.tamperAt, (b) => ({
          ...b,
          transactions: b.transactions.map((t) => ({ ...t, reason: 'rewritten' })),
        }));
  const jobs = new MemoryAuditJobs();
  const logger = new RecordingLogger();
  const clock = new ManualClock(T0);
  const published: unknown[] = [];
  const digests: SignedDigestLog = {
    latest: async () => (published.at(-1) as never) ?? null,
    publish: async (d) => {
      published.push(d);
    },
  };
  let checkpoint: AuditCheckpoint | null = null;
  const checkpoints = {
    load: async () => checkpoint,
    save: async (c: AuditCheckpoint) => {
      checkpoint = c;
    },
  };
  const range = auditRangeHandler({ store: () => seen, jobs, logger });
  const merge = auditMergeHandler({
    store: () => seen,
    jobs,
    logger,
    clock,
    checkpoints,
    signing: { signer, digests },
  });
  const executions: Promise<unknown>[] = [];
  const runner: AuditJobRunner = {
    async start(job: AuditJob) {
      executions.push(
        (async () => {
          const input = JSON.parse(
            JSON.stringify({
              job_id: job.job_id,
              ranges: job.ranges.map((r) => ({ job_id: job.job_id, ...r })),
            }),
          );
          if (opts.failRange)
            return merge({ job_id: input.job_id, error: { Error: 'States.TaskFailed', Cause: 'throttled' } });
          for (const item of input.ranges) await range(item);
          return merge({ job_id: input.job_id });
        })(),
      );
    },
  };
  const handler = verifyHandler({
    store: () => seen,
    started: async () => true,
    logger,
    metrics: new RecordingMetrics(),
    fullAudit: { jobs, runner, blocksPerRange: opts.blocksPerRange ?? 4, clock },
  });
  const api = apiApp({
    store: () => seen,
    completions: new MemoryCompletionQueue(new ManualClock(0)),
    acceptances: { get: async () => null },
    dimensions: ['cpu', 'mem', 'io', 'bw'],
    logger,
    audits: jobs,
  });
  const get = async (id: string) => {
    const res = await api.request(`/ledger/verify/${id}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return { store, handler, jobs, published, executions, get, checkpoint: () => checkpoint };
}

const post = (body: unknown) => apiEvent('POST', '/ledger/verify', { body });

describe('POST /ledger/verify {"full": true} on AWS (the state machine in process)', () => {
  it('answers 202 with a running job, whose ranges merge into the sequential report, signed', async () => {
    const { store, handler, executions, get, published, checkpoint } = await setup();
    const res = (await handler(post({ full: true }))) as APIGatewayProxyResult;
    expect(res.statusCode).toBe(202);
    const job = JSON.parse(res.body) as AuditJob;
    const head = await store.readHead();
    expect(job).toMatchObject({ state: 'running', head, report: null, error: null });
    expect(job.ranges.length).toBeGreaterThan(2);
    await Promise.all(executions);
    const done = await get(job.job_id);
    expect(done.status).toBe(200);
    const blocks = await store.getBlocks(0, head.height + 1);
    const { digest, ...sequential } = await verifyChain(blocks, { expectedHead: head });
    expect(done.body).toMatchObject({ state: 'done', report: sequential });
    // Signed only because it is valid, stamped with the signing time; the checkpoint moved up to the head.
    expect(published).toHaveLength(1);
    const check = verifySignedDigest(published[0], await signer.publicKeyPem());
    expect(check.valid).toBe(true);
    expect(done.body.digest).toEqual(published[0]);
    expect((done.body.digest as { blocks_root: string }).blocks_root).toBe(digest!.blocks_root);
    expect(checkpoint()).toMatchObject({ height: head.height, head_hash: head.hash });
  });

  it('finds a block tampered with in any range, records the finding and signs nothing', async () => {
    const { handler, executions, get, published } = await setup({ tamperAt: 6 });
    const job = JSON.parse(((await handler(post({ full: true }))) as APIGatewayProxyResult).body) as AuditJob;
    await Promise.all(executions);
    const done = await get(job.job_id);
    expect(done.body).toMatchObject({
      state: 'done',
      report: { valid: false, first_bad_height: 6, problem: 'wrong-merkle-root' },
      digest: null,
    });
    expect(published).toEqual([]);
  });

  it('records a failed job when the range workers fail for good', async () => {
    const { handler, executions, get } = await setup({ failRange: true });
    const job = JSON.parse(((await handler(post({ full: true }))) as APIGatewayProxyResult).body) as AuditJob;
    await Promise.all(executions);
    expect((await get(job.job_id)).body).toMatchObject({
      state: 'failed',
      report: null,
      error: expect.stringContaining('throttled'),
    });
  });

  it.each([
    ['full is not a boolean', { full: 'yes' }, 'full'],
    ['an unknown field', { full: true, from: 3 }, ''],
  ])('refuses a body where %s, naming the field', async (_name, body, field) => {
    const { handler, jobs } = await setup();
    const res = (await handler(post(body))) as APIGatewayProxyResult;
    expect(res.statusCode).toBe(400);
    const error = JSON.parse(res.body) as { error: string; fields?: { field: string }[]; message: string };
    expect(error.error).toBe('ValidationError');
    expect(JSON.stringify(error)).toContain(field === '' ? 'from' : 'full');
    expect(jobs.jobs.size).toBe(0);
  });

  it('GET of an unknown or malformed job id is 404 or 400', async () => {
    const { get } = await setup();
    expect((await get('0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9')).status).toBe(404);
    expect((await get('not-a-uuid')).status).toBe(400);
  });
});
