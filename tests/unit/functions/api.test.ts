import { describe, expect, it } from 'vitest';
import { apiApp } from '../../../functions/handlers/api';
import { restApiHandler } from '../../../lib/adapters/apigateway/rest-adapter';
import { MemoryTaskAcceptances } from '../../../lib/adapters/memory/memory-task-acceptances';
import { checkDigestConsistency, computeDigest } from '../../../lib/ledger/digest';
import { transactionProofSchema, verifyTransactionProof } from '../../../lib/ledger/proofs';
import { ManualClock } from '../../../lib/ports/clock';
import { MemoryCompletionQueue } from './helpers/completion-queue';
import { apiEvent } from './helpers/events';
import { allBlocks, DIMENSIONS, ledger, RecordingLogger, T0, task, vm } from './helpers/fixtures';

async function setup() {
  const { store, engine, clock } = ledger([
    vm('vm-a', { cpu: 1000, mem: 1000, io: 100, bw: 100 }),
    vm('vm-b', { cpu: 1000, mem: 1000, io: 100, bw: 100 }),
  ]);
  // Prepare a chain: two assignments and one rejection (too big for any VM).
  await engine.schedule([
    task('a', { cpu: 500, mem: 100, io: 0, bw: 0 }),
    task('b', { cpu: 300, mem: 100, io: 0, bw: 0 }),
    task('huge', { cpu: 9999, mem: 1, io: 0, bw: 0 }),
  ]);
  const logger = new RecordingLogger();
  const acceptances = new MemoryTaskAcceptances();
  const completions = new MemoryCompletionQueue(clock);
  const handler = restApiHandler(
    apiApp({
      store: () => store,
      completions,
      acceptances,
      dimensions: DIMENSIONS,
      logger,
    }),
  );
  const call = async (...args: Parameters<typeof apiEvent>) => {
    const res = await handler(apiEvent(...args));
    return { status: res.statusCode, body: JSON.parse(res.body) };
  };
  return { store, engine, call, logger, acceptances, completions };
}

describe('api: task and ledger reads', () => {
  it('GET /tasks/{id} returns the task status with the decision reason', async () => {
    const { store, call } = await setup();
    const record = (await store.getTask('a'))!;
    const res = await call('GET', '/tasks/a');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      task_id: 'a',
      status: 'assigned',
      vm_id: record.vm_id,
      block_height: record.block_height,
      transaction_id: record.transaction_id,
      reason: expect.any(String),
    });
    expect(res.body.reason.length).toBeGreaterThan(0);
  });

  it('GET /tasks/{id} is 404 for a task the ledger does not hold', async () => {
    const { call } = await setup();
    expect(await call('GET', '/tasks/nope')).toMatchObject({ status: 404, body: { error: 'NotFoundError' } });
  });

  it('GET /tasks/{id} answers queued from the acceptance record until the ledger decides, then the ledger', async () => {
    const { call, acceptances, engine } = await setup();
    const claim = { task_id: 'q', body_sha256: 'a'.repeat(64), accepted_at: T0 };
    // Claimed by a request that has not queued it (yet, or ever): not known to clients.
    await acceptances.claim([claim]);
    expect((await call('GET', '/tasks/q')).status).toBe(404);
    await acceptances.markQueued([claim]);
    expect(await call('GET', '/tasks/q')).toEqual({
      status: 200,
      body: {
        task_id: 'q',
        status: 'queued',
        vm_id: null,
        block_height: null,
        transaction_id: null,
        reason: null,
      },
    });
    await engine.schedule([task('q', { cpu: 1, mem: 1, io: 0, bw: 0 })]);
    expect((await call('GET', '/tasks/q')).body).toMatchObject({ task_id: 'q', status: 'assigned' });
    await engine.complete('q');
    expect((await call('GET', '/tasks/q')).body).toMatchObject({ task_id: 'q', status: 'completed' });
  });

  it('POST /tasks/{id}/complete queues an assigned task for the lease closer (202), which records it once', async () => {
    // Prepare: 'a' assigned, 'huge' rejected.
    const { store, engine, call, completions } = await setup();
    const headBefore = await store.readHead();

    // Act: two reports of 'a' before the closer runs, one of a rejected task, one of an unknown one.
    const first = await call('POST', '/tasks/a/complete');
    const racing = await call('POST', '/tasks/a/complete');
    const rejected = await call('POST', '/tasks/huge/complete');
    const unknown = await call('POST', '/tasks/nope/complete');

    // Assess: accepted twice, nothing written by the API; the rejected and unknown answered as before.
    const accepted = {
      task_id: 'a',
      status: 'accepted',
      task_status: 'assigned',
      transaction_id: null,
      block_height: null,
    };
    expect(first).toEqual({ status: 202, body: accepted });
    expect(racing).toEqual({ status: 202, body: accepted });
    expect(rejected).toMatchObject({
      status: 200,
      body: { status: 'already-final', task_status: 'rejected' },
    });
    expect(unknown.status).toBe(404);
    expect(await store.readHead()).toEqual(headBefore);
    expect((await call('GET', '/tasks/a')).body).toMatchObject({ status: 'assigned' });
    expect(completions.sent).toEqual([
      expect.objectContaining({ v: 1, task_id: 'a', body: {}, source: 'api' }),
      expect.objectContaining({ v: 1, task_id: 'a', body: {}, source: 'api' }),
    ]);

    // Act: the lease closer consumes the batch.
    expect(await completions.deliver(engine)).toEqual({ batchItemFailures: [] });

    // Assess: one completed transaction in one new block; GET shows it; a later report is already-final.
    const blocks = await allBlocks(store);
    const closings = blocks.flatMap((b) => b.transactions).filter((t) => t.status === 'completed');
    expect(closings.map((t) => t.task_id)).toEqual(['a']);
    expect((await store.readHead()).height).toBe(headBefore.height + 1);
    expect((await call('GET', '/tasks/a')).body).toMatchObject({ status: 'completed' });
    expect(await call('POST', '/tasks/a/complete')).toEqual({
      status: 200,
      body: {
        task_id: 'a',
        status: 'already-final',
        task_status: 'completed',
        transaction_id: null,
        block_height: null,
      },
    });
  });

  it('POST /tasks/{id}/complete validates a body when one is sent', async () => {
    const { call, completions } = await setup();
    const bad = await call('POST', '/tasks/a/complete', { rawBody: '[1]' });
    expect(bad.status).toBe(400);
    expect(completions.sent).toEqual([]);
    expect((await call('POST', '/tasks/a/complete', { rawBody: '{}' })).status).toBe(202);
  });

  it('GET /ledger summarises the chain per VM', async () => {
    const { store, call } = await setup();
    const head = await store.readHead();
    const res = await call('GET', '/ledger');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ height: head.height, head_hash: head.hash, transaction_count: 3 });
    const assignments = res.body.vms.reduce((n: number, v: { assignments: number }) => n + v.assignments, 0);
    expect(assignments).toBe(2);
  });

  it('GET /ledger/blocks pages through the chain', async () => {
    const { store, call } = await setup();
    const blocks = await allBlocks(store);
    const res = await call('GET', '/ledger/blocks', { query: { from: '1', limit: '1' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ height: blocks.at(-1)!.height, blocks: [blocks[1]] });
  });

  describe.each([
    [{ limit: '0' }, 'limit'],
    [{ limit: '101' }, 'limit'],
    [{ from: '-1' }, 'from'],
    [{ from: 'x' }, 'from'],
    [{ colour: 'red' }, ''],
  ])('GET /ledger/blocks with %o', (query, field) => {
    it(`is 400 naming "${field}"`, async () => {
      const { call } = await setup();
      const res = await call('GET', '/ledger/blocks', { query });
      expect(res.status).toBe(400);
      expect(res.body.issues.map((i: { field: string }) => i.field)).toContain(field);
    });
  });

  it('GET /ledger/transactions/{id} returns an inclusion proof that verifies', async () => {
    const { store, call } = await setup();
    const record = (await store.getTask('b'))!;
    const res = await call('GET', `/ledger/transactions/${record.transaction_id}`);
    expect(res.status).toBe(200);
    const proof = transactionProofSchema.parse(res.body);
    expect(proof.transaction.task_id).toBe('b');
    expect(verifyTransactionProof(proof)).toBe(true);
    // A proof for another transaction's body does not verify.
    expect(
      verifyTransactionProof({ ...proof, transaction: { ...proof.transaction, vm_id: 'elsewhere' } }),
    ).toBe(false);
  });

  it('GET /ledger/digest covers every block up to the head', async () => {
    const { store, call } = await setup();
    const blocks = await allBlocks(store);
    const res = await call('GET', '/ledger/digest');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      height: blocks.at(-1)!.height,
      head_hash: blocks.at(-1)!.block_hash,
      tree_size: blocks.length,
      transaction_count: 3,
    });
    expect(res.body).toEqual(computeDigest(blocks, blocks.at(-1)!.timestamp));
  });

  it('GET /ledger/consistency proves each earlier digest a prefix of each later one', async () => {
    const { store, engine, call } = await setup();
    await engine.complete('a');
    await engine.complete('b');
    const blocks = await allBlocks(store);
    const n = blocks.length;
    expect(n).toBeGreaterThanOrEqual(3);
    const digestAt = (size: number) => computeDigest(blocks.slice(0, size), blocks[size - 1]!.timestamp);
    for (let from = 1; from <= n; from++) {
      for (let to = from; to <= n; to++) {
        const res = await call('GET', '/ledger/consistency', { query: { from: `${from}`, to: `${to}` } });
        expect(res.status).toBe(200);
        expect(res.body.from).toEqual(digestAt(from));
        expect(res.body.to).toEqual(digestAt(to));
        expect(checkDigestConsistency(digestAt(from), res.body, digestAt(to))).toMatchObject({ valid: true });
      }
    }
    const latest = await call('GET', '/ledger/consistency', { query: { from: '1' } });
    expect(latest.body.to).toEqual(digestAt(n));
  });

  describe.each([
    [{ from: '0' }, 'from'],
    [{ from: '3', to: '2' }, 'from'],
    [{ from: '1', to: '99' }, 'to'],
    [{ from: 'x' }, 'from'],
    [{}, 'from'],
  ])('GET /ledger/consistency with %o', (query, field) => {
    it(`is 400 naming "${field}"`, async () => {
      const { call } = await setup();
      const res = await call('GET', '/ledger/consistency', { query });
      expect(res.status).toBe(400);
      expect(res.body.issues.map((i: { field: string }) => i.field)).toContain(field);
    });
  });

  it('unknown transactions and routes are 404; a failing store is a 500 without internals', async () => {
    const { call } = await setup();
    expect((await call('GET', '/ledger/transactions/none')).status).toBe(404);
    expect((await call('GET', '/nowhere')).status).toBe(404);

    const logger = new RecordingLogger();
    const broken = restApiHandler(
      apiApp({
        store: () => {
          throw new Error('secret connection string');
        },
        completions: new MemoryCompletionQueue(new ManualClock(T0)),
        acceptances: new MemoryTaskAcceptances(),
        dimensions: DIMENSIONS,
        logger,
      }),
    );
    const res = await broken(apiEvent('GET', '/tasks/a'));
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('secret');
    expect(logger.at('error')).toHaveLength(1);
  });
});
