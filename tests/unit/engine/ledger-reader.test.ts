import { describe, expect, it } from 'vitest';
import { LedgerReader } from '../../../lib/engine/ledger-reader';
import { computeDigest, transactionId, verifyTransactionProof } from '../../../lib/ledger';
import type { Block } from '../../../lib/ledger/types';
import type { LedgerStore } from '../../../lib/ports/ledger-store';
import { chain, setup, task, vm } from './helpers';

/** The store with its persistent Merkle state hidden: the reader then follows the chain itself. */
function withoutStoredTree(store: LedgerStore): LedgerStore {
  const hidden = new Set<PropertyKey>(['readTreeHead', 'readTiles', 'readVmCounts', 'readHeightStates']);
  return new Proxy(store, {
    get(target, key) {
      if (hidden.has(key)) return undefined;
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

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
  return { ...ctx, reader: new LedgerReader(ctx.store, { pageSize: 2 }) };
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
      failed: 0,
      expired: 1,
      success_rate: 3 / 4,
      vms: [
        // vm-a: nothing left reserved. vm-b: b holds cpu 250/500 and mem 500/1000, mean 0.5.
        {
          vm_id: 'vm-a',
          assignments: 2,
          completed: 1,
          failed: 0,
          expired: 1,
          active_tasks: 0,
          success_rate: 0.5,
          utilisation: 0,
        },
        {
          vm_id: 'vm-b',
          assignments: 1,
          completed: 0,
          failed: 0,
          expired: 0,
          active_tasks: 1,
          success_rate: null,
          utilisation: 0.5,
        },
      ],
    });
  });

  it('counts a run that exited non-zero as failed, overall and on its VM', async () => {
    const { reader, engine } = await history();
    const closed = await engine.complete('b', {
      exit_code: 2,
      signal: null,
      duration_ms: 1500,
      output_sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    });
    expect(closed.status === 'closed' && closed.transaction.status).toBe('failed');
    const summary = await reader.summary();
    expect(summary).toMatchObject({ completed: 1, failed: 1, expired: 1 });
    expect(summary.vms.find((v) => v.vm_id === 'vm-b')).toMatchObject({
      failed: 1,
      active_tasks: 0,
      success_rate: 0,
    });
  });

  it('follows new commits incrementally and agrees with a fresh reader', async () => {
    const { reader, engine, store } = await history();
    await reader.summary();
    await engine.schedule([task('e', { cpu: 100 })]);
    await engine.complete('b');

    const [followed, fresh] = await Promise.all([reader.summary(), new LedgerReader(store).summary()]);
    expect(followed).toEqual(fresh);
    expect(followed.transaction_count).toBe(8);
  });

  it('gives the same digest as computing it over every block, stamped with the head block time', async () => {
    const { reader, store, clock } = await history();
    const blocks = await chain(store);
    clock.advance(60_000); // the reader's own time plays no part: the same chain, the same digest
    expect(reader.usesStoredTree).toBe(true);
    expect(await reader.digest()).toEqual(computeDigest(blocks, blocks.at(-1)!.timestamp));
    expect(reader.height).toBe(blocks.length - 1);

    const following = new LedgerReader(withoutStoredTree(store));
    expect(following.usesStoredTree).toBe(false);
    expect(await following.digest()).toEqual(computeDigest(blocks, blocks.at(-1)!.timestamp));
    expect(following.blockHashes).toEqual(blocks.map((b) => b.block_hash));
  });

  it('gives the same summary, digest, proofs and consistency proofs from the stored tree as from following the chain', async () => {
    const { reader, store, engine } = await history();
    for (let i = 0; i < 30; i++) await engine.schedule([task(`more-${i}`, { cpu: 1 })]);
    const following = new LedgerReader(withoutStoredTree(store));
    expect(await reader.summary()).toEqual(await following.summary());
    expect(await reader.digest()).toEqual(await following.digest());
    const id = transactionId('more-7', 'decision');
    expect(await reader.transaction(id)).toEqual(await following.transaction(id));
    for (const oldSize of [1, 2, 17, 34]) {
      expect(await reader.consistency(oldSize)).toEqual(await following.consistency(oldSize));
    }
    await expect(reader.consistency(0)).rejects.toThrow(/out of range 1\.\.34/);
  });

  it('serves consistencyBetween from the tiles and stored height states, agreeing with the followed chain', async () => {
    const { reader, store, engine } = await history();
    for (let i = 0; i < 12; i++) await engine.schedule([task(`late-${i}`, { cpu: 1 })]);
    const following = new LedgerReader(withoutStoredTree(store));
    const digest = await reader.digest();
    const blocksRead = { count: 0 };
    const getBlocks = store.getBlocks.bind(store);
    store.getBlocks = (from, limit) => {
      blocksRead.count++;
      return getBlocks(from, limit);
    };
    for (const from of [1, 5, digest.tree_size]) {
      for (const to of [undefined, from, digest.tree_size - 1]) {
        if (to !== undefined && to < from) continue;
        const between = await reader.consistencyBetween(from, to);
        expect(blocksRead.count).toBe(0);
        expect(between).toEqual(await following.consistencyBetween(from, to));
        blocksRead.count = 0;
      }
      const between = await reader.consistencyBetween(from);
      expect(between.to).toEqual(digest);
      expect(between.proof).toEqual((await reader.consistency(from)).proof);
    }
    await expect(reader.consistencyBetween(0)).rejects.toThrow(/invalid consistency range/);
    await expect(reader.consistencyBetween(2, digest.tree_size + 1)).rejects.toThrow(
      /invalid consistency range/,
    );
  });

  it('follows the chain for consistencyBetween when the store holds no transaction total for a height', async () => {
    const { store, engine } = await history();
    for (let i = 0; i < 5; i++) await engine.schedule([task(`late-${i}`, { cpu: 1 })]);
    const following = new LedgerReader(withoutStoredTree(store));
    // A store written before blocks carried their totals answers null.
    store.readHeightStates = async (heights) => heights.map(() => null);
    const reader = new LedgerReader(store);
    expect(await reader.consistencyBetween(3)).toEqual(await following.consistencyBetween(3));
  });

  it('takes blocks handed to it only in order, and fills gaps from the store', async () => {
    const { store: merkleStore } = await history();
    const store = withoutStoredTree(merkleStore);
    const blocks = await chain(store);
    const reader = new LedgerReader(store, { pageSize: 2 });
    reader.add(blocks[0]!);
    reader.add(blocks[2]!); // a gap: ignored
    expect(reader.height).toBe(0);
    await reader.refresh();
    expect(reader.blockHashes).toEqual(blocks.map((b) => b.block_hash));
    reader.add(blocks[1]!); // already counted: ignored
    expect((await reader.summary()).transaction_count).toBe(6);
  });

  it('refuses a handed block that does not extend the chain it follows', async () => {
    const { store } = await history();
    const [genesis, first] = await chain(store);
    const reader = new LedgerReader(withoutStoredTree(store));
    reader.add(genesis!);
    expect(() => reader.add({ ...first!, previous_hash: 'f'.repeat(64) })).toThrow(/does not extend/);
  });

  it('reports a task as recorded, with its transaction and the reason it gives', async () => {
    const { reader, store } = await history();
    const record = await store.getTask('d');

    const status = await reader.task('d');

    expect(status).toMatchObject({
      task_id: 'd',
      status: 'rejected',
      vm_id: null,
      block_height: record!.block_height,
      transaction_id: transactionId('d', 'decision'),
    });
    expect(status!.reason).toMatch(/cpu/);
    expect((await reader.task('a'))?.status).toBe('completed');
    expect(await reader.task('never-submitted')).toBeNull();
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
