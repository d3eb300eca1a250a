import { describe, expect, it } from 'vitest';
import { LedgerReader } from '../../../lib/engine/ledger-reader';
import { computeDigest, toTimestamp, transactionId, verifyTransactionProof } from '../../../lib/ledger';
import type { Block } from '../../../lib/ledger/types';
import { chain, setup, task, vm } from './helpers';

/** A ledger with a known history: vm-a gets a (completed) and c (expired), vm-b gets b; d is rejected. */
async function history() {
  const ctx = setup([vm('vm-a', { cpu: 1000, mem: 1000 }), vm('vm-b', { cpu: 500, mem: 1000 })], {
    algorithm: 'round-robin',
    leaseGraceSeconds: 0,
  });
  await ctx.engine.schedule([
    task('a', { cpu: 400, mem: 100 }, { duration: 1000 }),
    task('b', { cpu: 250, mem: 500 }, { duration: 1000 }),
    task('c', { cpu: 100, mem: 100 }, { duration: 1 }),
    task('d', { cpu: 5000 }),
  ]);
  await ctx.engine.complete('a');
  ctx.clock.advance(1000);
  await ctx.engine.expireLeases();
  return { ...ctx, reader: new LedgerReader(ctx.store, { pageSize: 2, clock: ctx.clock }) };
}

describe('LedgerReader', () => {
  it('summarises counts per status and per VM, with success rates and utilisation from reservations', async () => {
    const { reader, store } = await history();
    const head = await store.readHead();

    const summary = await reader.summary();

    expect(summary).toEqual({
      height: head.height,
      head_hash: head.hash,
      transaction_count: 6,
      assignments: 3,
      rejections: 1,
      completed: 1,
      expired: 1,
      success_rate: 3 / 4,
      vms: [
        // vm-a: nothing left reserved. vm-b: b holds cpu 250/500 and mem 500/1000, mean 0.5.
        {
          vm_id: 'vm-a',
          assignments: 2,
          completed: 1,
          expired: 1,
          active_tasks: 0,
          success_rate: 0.5,
          utilisation: 0,
        },
        {
          vm_id: 'vm-b',
          assignments: 1,
          completed: 0,
          expired: 0,
          active_tasks: 1,
          success_rate: null,
          utilisation: 0.5,
        },
      ],
    });
  });

  it('follows new commits incrementally and agrees with a fresh reader', async () => {
    const { reader, engine, store, clock } = await history();
    await reader.summary();
    await engine.schedule([task('e', { cpu: 100 })]);
    await engine.complete('b');

    const [followed, fresh] = await Promise.all([
      reader.summary(),
      new LedgerReader(store, { clock }).summary(),
    ]);
    expect(followed).toEqual(fresh);
    expect(followed.transaction_count).toBe(8);
  });

  it('gives the same digest as computing it over every block', async () => {
    const { reader, store, clock } = await history();
    const blocks = await chain(store);
    expect(await reader.digest()).toEqual(computeDigest(blocks, toTimestamp(clock.now())));
  });

  it('finds a transaction with a proof that verifies against the current digest', async () => {
    const { reader, store } = await history();
    const id = transactionId('c', 'close');

    const found = await reader.transaction(id);

    const position = await store.findTransaction(id);
    expect(found).toMatchObject({
      height: position!.height,
      index: position!.index,
      transaction: { status: 'expired' },
    });
    const digest = await reader.digest();
    expect(verifyTransactionProof(found!.proof, digest)).toBe(true);
    expect(verifyTransactionProof({ ...found!.proof, index: found!.proof.index + 1 }, digest)).toBe(false);
    expect(await reader.transaction(transactionId('nope', 'decision'))).toBeNull();
  });

  it('streams every block in order, page by page', async () => {
    const { reader, store } = await history();
    const streamed: Block[] = [];
    for await (const block of reader.blocks()) streamed.push(block);
    expect(streamed).toEqual(await chain(store));
  });
});
