import type { APIGatewayProxyResult } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { type VerifyRunReport, verifyHandler } from '../../../functions/handlers/verify';
import type { AuditCheckpoint } from '../../../lib/engine/incremental-audit';
import type { Block, VerificationReport } from '../../../lib/ledger/types';
import type { LedgerStore } from '../../../lib/ports/ledger-store';
import { apiEvent, scheduledEvent } from './helpers/events';
import { ledger, RecordingLogger, RecordingMetrics, task, vm } from './helpers/fixtures';

/** The store as an attacker with write access to the table would leave it: one block altered. */
function tampered(store: LedgerStore, height: number, change: (b: Block) => Block): LedgerStore {
  return Object.assign(Object.create(store), {
    getBlocks: async (from: number, limit: number) =>
      (await store.getBlocks(from, limit)).map((b) => (b.height === height ? change(b) : b)),
  });
}

async function setup(opts: { started?: boolean; tamper?: boolean } = {}) {
  const { store, engine } = ledger([vm('vm-a', { cpu: 1000, mem: 1000, io: 100, bw: 100 })]);
  await engine.schedule([
    task('a', { cpu: 100, mem: 1, io: 0, bw: 0 }),
    task('b', { cpu: 100, mem: 1, io: 0, bw: 0 }),
  ]);
  const seen = opts.tamper
    ? tampered(store, 1, (b) => ({
        ...b,
        transactions: b.transactions.map((t) => ({ ...t, vm_id: 'vm-evil' })),
      }))
    : store;
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const handler = verifyHandler({
    store: () => seen,
    started: async () => opts.started ?? true,
    logger,
    metrics,
  });
  return { store, handler, logger, metrics };
}

describe('verify: API and schedule', () => {
  it('on schedule, reports a valid chain and publishes ChainValid 1 and the height', async () => {
    const { store, handler, metrics } = await setup();
    const report = (await handler(scheduledEvent())) as VerificationReport;
    const head = await store.readHead();
    expect(report).toMatchObject({ valid: true, height: head.height, head_hash: head.hash, problem: null });
    expect(metrics.last('ChainValid')).toEqual([1]);
    expect(metrics.last('ChainHeight')).toEqual([head.height]);
  });

  it('finds a tampered block, publishes ChainValid 0 and logs an error', async () => {
    const { handler, metrics, logger } = await setup({ tamper: true });
    const report = (await handler(scheduledEvent())) as VerificationReport;
    expect(report).toMatchObject({ valid: false, first_bad_height: 1, problem: 'wrong-merkle-root' });
    expect(metrics.last('ChainValid')).toEqual([0]);
    expect(logger.at('error').map((e) => e.message)).toEqual(['chain verification failed']);
  });

  it('reports an unstarted ledger as valid and empty without reading the store', async () => {
    const { handler, metrics } = await setup({ started: false });
    const report = (await handler(scheduledEvent())) as VerificationReport;
    expect(report).toMatchObject({ valid: true, height: -1, head_hash: null, blocks_checked: 0 });
    expect(metrics.last('ChainValid')).toEqual([1]);
    expect(metrics.last('ChainHeight')).toEqual([]);
  });

  it.each([
    ['no body', undefined],
    ['an empty object', {}],
  ])('POST /ledger/verify with %s answers 200 with the report', async (_name, body) => {
    const { handler } = await setup({ tamper: true });
    const res = (await handler(
      apiEvent('POST', '/ledger/verify', body === undefined ? {} : { body }),
    )) as APIGatewayProxyResult;
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ valid: false, first_bad_height: 1 });
  });

  it.each([
    ['a parameter', { from: 3 }],
    ['an array', []],
  ])('POST /ledger/verify with %s is 400 and verifies nothing', async (_name, body) => {
    const { handler, metrics } = await setup();
    const res = (await handler(apiEvent('POST', '/ledger/verify', { body }))) as APIGatewayProxyResult;
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body).error).toBe('ValidationError');
    expect(metrics.published).toHaveLength(0);
  });
});

describe('verify with a saved checkpoint (as deployed)', () => {
  function checkpointed(budgets: number[]) {
    return async () => {
      const { store, engine } = ledger([vm('vm-a', { cpu: 1000, mem: 1000, io: 100, bw: 100 })]);
      for (let i = 0; i < 6; i++) await engine.schedule([task(`t-${i}`, { cpu: 1, mem: 1, io: 0, bw: 0 })]);
      let saved: AuditCheckpoint | null = null;
      const metrics = new RecordingMetrics();
      const handler = verifyHandler({
        store: () => store,
        started: async () => true,
        logger: new RecordingLogger(),
        metrics,
        checkpoints: {
          load: async () => saved,
          save: async (c) => {
            saved = c;
          },
        },
        budgetMs: () => budgets.shift() ?? 60_000,
      });
      return { store, handler, metrics, saved: () => saved };
    };
  }

  it('a run out of budget reports the chain valid so far, saves its progress and how far behind it is; the next resumes', async () => {
    const { store, handler, metrics, saved } = await checkpointed([0])();
    const head = await store.readHead();
    const first = (await handler(scheduledEvent())) as VerifyRunReport;
    expect(first).toMatchObject({
      valid: true,
      incomplete: true,
      blocks_checked: 0,
      behind: head.height + 1,
    });
    expect(metrics.last('ChainValid')).toEqual([1]);
    expect(metrics.last('AuditBehindBlocks')).toEqual([head.height + 1]);
    const second = (await handler(scheduledEvent())) as VerifyRunReport;
    expect(second).toMatchObject({ valid: true, incomplete: false, behind: 0, height: head.height });
    expect(saved()?.height).toBe(head.height);
    // POST /ledger/verify now checks only what is new: nothing.
    const res = (await handler(apiEvent('POST', '/ledger/verify', {}))) as APIGatewayProxyResult;
    expect(JSON.parse(res.body)).toMatchObject({ valid: true, blocks_checked: 0, height: head.height });
  });
});
