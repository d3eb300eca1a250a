import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  blockHash,
  buildBlocks,
  canonicalString,
  computeDigest,
  toTimestamp,
  transactionId,
  verifyJsonlFile,
} from '../../../lib/ledger';
import type { ByteRange } from '../../../lib/ledger/jsonl';
import { joinSlices } from '../../../lib/ledger/parallel-join';
import { verifyRange } from '../../../lib/ledger/parallel-range';
import { lineAlignedRanges, verifyJsonlFileParallel } from '../../../lib/ledger/parallel-verify';
import type { Block, ChainHead, Digest } from '../../../lib/ledger/types';
import {
  byteFlip,
  byteFlipArgs,
  fieldMutation,
  fieldMutationArgs,
  structureMutation,
  structureOperation,
  TAMPER_CHAIN,
  TAMPER_HEAD,
} from './helpers/tamper';
import { buildChain, clone, sampleTransactions, T0 } from './helpers/transactions';

/**
 * The parallel verifier must give verifyJsonlFile's report for every input. Its join is checked
 * in-thread over many slicings of valid and tampered exports (cheap), the worker path end to end on a
 * few (each call starts threads).
 */

const tmp = mkdtempSync(join(tmpdir(), 'ledger-parallel-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let files = 0;

function write(lines: readonly string[]): string {
  const path = join(tmp, `chain-${files++}.jsonl`);
  writeFileSync(path, lines.map((l) => `${l}\n`).join(''));
  return path;
}

function linesOf(blocks: readonly unknown[]): string[] {
  return blocks.map((b) => {
    try {
      return canonicalString(b);
    } catch {
      return JSON.stringify(b);
    }
  });
}

/** Ranges starting at the given line indexes (sorted, deduplicated, 0 added). */
function rangesAtLines(path: string, cutLines: readonly number[]): ByteRange[] {
  const bytes = readFileSync(path);
  const starts = [0];
  for (let i = 0; i < bytes.length - 1; i++) if (bytes[i] === 0x0a) starts.push(i + 1);
  const cuts = [...new Set([0, ...cutLines.map((l) => starts[l % starts.length]!)])].sort((a, b) => a - b);
  return cuts.map((start, i) => ({ start, end: cuts[i + 1] ?? bytes.length }));
}

type Options = { expectedHead?: ChainHead; trustedDigest?: Digest };

/** joinSlices over slices verified in this thread, against the sequential report. */
async function joinedAndSequential(path: string, cutLines: readonly number[], opts: Options) {
  const slices = await Promise.all(rangesAtLines(path, cutLines).map((r) => verifyRange(path, r)));
  return { joined: joinSlices(slices, opts), sequential: await verifyJsonlFile(path, opts) };
}

/** A valid join equals the sequential report; anything the sequential verifier rejects, the join refuses. */
function expectAgreement({ joined, sequential }: Awaited<ReturnType<typeof joinedAndSequential>>) {
  if (sequential.valid) expect(joined).toEqual(sequential);
  else expect(joined).toBeNull();
}

/** The chain with block `at` changed by `edit`, then every later header relinked and rehashed. */
function relinkedFrom(blocks: Block[], at: number, edit: (block: Block) => void): Block[] {
  const out = clone(blocks);
  edit(out[at]!);
  for (let h = at; h < out.length; h++) {
    if (h > at) out[h]!.previous_hash = out[h - 1]!.block_hash;
    out[h]!.block_hash = blockHash(out[h]!);
  }
  return out;
}

const cutsArb = fc.array(fc.nat(), { minLength: 1, maxLength: 4 });
const RUNS = { numRuns: 60, seed: 6 } as const;

describe('joinSlices over in-thread slices', () => {
  const validPath = write(linesOf(TAMPER_CHAIN));

  it('gives the sequential report, digest included, for a valid chain however it is sliced', async () => {
    await fc.assert(
      fc.asyncProperty(cutsArb, async (cuts) => {
        const both = await joinedAndSequential(validPath, cuts, { expectedHead: TAMPER_HEAD });
        expect(both.sequential.valid).toBe(true);
        expectAgreement(both);
      }),
      RUNS,
    );
  });

  it('checks a trusted digest taken at any height, and refuses one of another chain', async () => {
    await fc.assert(
      fc.asyncProperty(cutsArb, fc.nat(TAMPER_HEAD.height), async (cuts, height) => {
        const trustedDigest = computeDigest(TAMPER_CHAIN.slice(0, height + 1), toTimestamp(T0));
        expectAgreement(await joinedAndSequential(validPath, cuts, { trustedDigest }));
        const other = {
          ...trustedDigest,
          blocks_root: trustedDigest.blocks_root.replace(/^./, (c) => (c === '0' ? '1' : '0')),
        };
        const wrong = await joinedAndSequential(validPath, cuts, { trustedDigest: other });
        expect(wrong.sequential.valid).toBe(false);
        expectAgreement(wrong);
      }),
      { numRuns: 20, seed: 7 },
    );
  });

  it('refuses a chain the sequential verifier rejects: changed fields, block edits, flipped bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.tuple(...fieldMutationArgs), cutsArb, async ([h, pick, salt], cuts) => {
        const path = write(linesOf(fieldMutation(h, pick, salt).blocks));
        expectAgreement(await joinedAndSequential(path, cuts, { expectedHead: TAMPER_HEAD }));
      }),
      RUNS,
    );
    await fc.assert(
      fc.asyncProperty(structureOperation, cutsArb, async (operation, cuts) => {
        const path = write(linesOf(structureMutation(operation).blocks));
        expectAgreement(await joinedAndSequential(path, cuts, { expectedHead: TAMPER_HEAD }));
        // Without an expected head, a truncated chain is valid: the join must then agree with it.
        expectAgreement(await joinedAndSequential(path, cuts, {}));
      }),
      RUNS,
    );
    await fc.assert(
      fc.asyncProperty(fc.tuple(...byteFlipArgs), cutsArb, async ([h, at, xor], cuts) => {
        const lines = byteFlip(linesOf(TAMPER_CHAIN), h, at, xor);
        if (lines === null) return;
        expectAgreement(await joinedAndSequential(write(lines), cuts, { expectedHead: TAMPER_HEAD }));
      }),
      RUNS,
    );
  }, 60_000);

  it('catches what only the join can see: a relinked slice, a repeated id in another slice', async () => {
    // Block 30 pointing elsewhere, rehashed, and everything after it relinked: every slice is consistent
    // within itself, and only the link into the slice that starts at 30 shows the break.
    const relinked = relinkedFrom(TAMPER_CHAIN, 30, (b) => {
      b.previous_hash = TAMPER_CHAIN[10]!.block_hash;
    });
    const relinkedPath = write(linesOf(relinked));
    const atBoundary = await joinedAndSequential(relinkedPath, [30], {});
    expect(atBoundary.sequential).toMatchObject({
      valid: false,
      first_bad_height: 30,
      problem: 'broken-link',
    });
    expectAgreement(atBoundary);
    const linkCut = await joinedAndSequential(relinkedPath, [31], {});
    expect(linkCut.sequential.valid).toBe(false);
    expectAgreement(linkCut);

    // The same decision recorded twice, in blocks far apart, each block well formed.
    const txs = sampleTransactions(40, 99);
    const first = buildChain(txs, 4);
    const last = first.at(-1)!;
    // buildBlocks refuses a repeat within one batch, so the copy comes in a second batch.
    const again = buildBlocks({ height: last.height, hash: last.block_hash }, [clone(txs[0]!)], {
      maxPerBlock: 4,
      timestamp: toTimestamp(T0),
    });
    const path = write(linesOf([...first, ...again]));
    const duplicate = await joinedAndSequential(path, [6], {});
    expect(duplicate.sequential).toMatchObject({ valid: false, problem: 'duplicate-transaction' });
    expectAgreement(duplicate);

    // A closing in a later slice whose task no slice decided: its slice cannot tell, only the join can.
    const template = txs.find((tx) => tx.status === 'completed' || tx.status === 'expired')!;
    const closing = buildBlocks(
      { height: last.height, hash: last.block_hash },
      [
        {
          ...clone(template),
          task_id: 'never-decided',
          transaction_id: transactionId('never-decided', 'close'),
        },
      ],
      { maxPerBlock: 4, timestamp: toTimestamp(T0) },
    );
    const unmatched = await joinedAndSequential(write(linesOf([...first, ...closing])), [6], {});
    expect(unmatched.sequential).toMatchObject({
      valid: false,
      problem: 'unmatched-closing',
      first_bad_height: last.height + 1,
    });
    expectAgreement(unmatched);
  });
});

describe('lineAlignedRanges', () => {
  it('covers the file with contiguous non-empty ranges that each start a line, long lines included', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 150_000 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 8 }),
        async (lengths, parts) => {
          const path = write(lengths.map((n, i) => String.fromCharCode(97 + (i % 26)).repeat(n)));
          const bytes = readFileSync(path);
          const ranges = await lineAlignedRanges(path, bytes.length, parts);
          expect(ranges.length).toBeGreaterThanOrEqual(1);
          expect(ranges.length).toBeLessThanOrEqual(parts);
          expect(ranges[0]!.start).toBe(0);
          expect(ranges.at(-1)!.end).toBe(bytes.length);
          for (const [i, r] of ranges.entries()) {
            expect(r.end).toBeGreaterThan(r.start);
            if (i > 0) {
              expect(r.start).toBe(ranges[i - 1]!.end);
              expect(bytes[r.start - 1]).toBe(0x0a);
            }
          }
        },
      ),
      { numRuns: 40, seed: 8 },
    );
  });
});

describe('verifyJsonlFileParallel (worker threads)', () => {
  it('reports as verifyJsonlFile does on a valid chain and, by falling back, on a tampered one', async () => {
    const valid = write(linesOf(TAMPER_CHAIN));
    const opts = { expectedHead: TAMPER_HEAD, workers: 3, minBytes: 0 };
    expect(await verifyJsonlFileParallel(valid, opts)).toEqual(await verifyJsonlFile(valid, opts));

    const tampered = write(linesOf(fieldMutation(40, 3, 1).blocks));
    const report = await verifyJsonlFileParallel(tampered, opts);
    expect(report.valid).toBe(false);
    expect(report).toEqual(await verifyJsonlFile(tampered, opts));
  }, 60_000);
});
