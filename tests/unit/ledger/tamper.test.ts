import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalString, exportJsonl, parseJsonl, verifyChain, verifyJsonl } from '../../../lib/ledger';
import type { Block } from '../../../lib/ledger/types';
import {
  BYTE_RUNS,
  byteFlip,
  byteFlipArgs,
  TAMPER_CHAIN as chain,
  FIELD_RUNS,
  fieldMutation,
  fieldMutationArgs,
  TAMPER_HEAD as head,
  STRUCTURE_RUNS,
  structureMutation,
  structureOperation,
} from './helpers/tamper';

/**
 * Tamper detection: a 50-block chain of random transactions, then hundreds of random mutations. Each must
 * make verifyChain report the chain invalid and name the block that was touched.
 */

// Hundreds of whole-chain verifications on a shared 2-core machine: generous, never a timing assertion.
const SLOW = 120_000;

describe('tamper detection on a 50-block chain', () => {
  it('is valid before any mutation', async () => {
    expect(await verifyChain(chain, { expectedHead: head })).toMatchObject({ valid: true, height: 50 });
  });

  it(
    'any changed field of any block or transaction is caught at that block',
    async () => {
      await fc.assert(
        fc.asyncProperty(...fieldMutationArgs, async (height, pick, salt) => {
          const { blocks, label } = fieldMutation(height, pick, salt);
          const report = await verifyChain(blocks, { expectedHead: head });
          expect(report.valid, label).toBe(false);
          // A changed height collides with the next expected height only as a gap; anything else is at `height`.
          expect(report.first_bad_height, `${label} -> ${report.problem}`).toBe(height);
        }),
        FIELD_RUNS,
      );
    },
    SLOW,
  );

  it(
    'deleted, reordered, duplicated and truncated blocks are caught at the first affected height',
    async () => {
      await fc.assert(
        fc.asyncProperty(structureOperation, async (operation) => {
          const { blocks, firstBad } = structureMutation(operation);
          const report = await verifyChain(blocks, { expectedHead: head });
          expect(report.valid).toBe(false);
          expect(report.first_bad_height, `${JSON.stringify(operation)} -> ${report.problem}`).toBe(firstBad);
        }),
        STRUCTURE_RUNS,
      );
    },
    SLOW,
  );

  it(
    'any flipped byte of the JSON Lines export is caught at that line, or changes nothing',
    async () => {
      const lines: string[] = [];
      for await (const line of exportJsonl(chain)) lines.push(line.slice(0, -1));
      await fc.assert(
        fc.asyncProperty(...byteFlipArgs, async (height, at, xor) => {
          const tampered = byteFlip(lines, height, at, xor);
          if (tampered === null) return;
          const report = await verifyJsonl(tampered, { expectedHead: head });
          if (report.valid) {
            // Only possible if the edit is invisible to JSON (e.g. a different escape of the same character):
            // then the parsed chain must be the original one.
            const reparsed: Block[] = [];
            for await (const block of parseJsonl(tampered)) reparsed.push(block);
            expect(reparsed.map((x) => canonicalString(x))).toEqual(chain.map((x) => canonicalString(x)));
            return;
          }
          expect(report.first_bad_height).toBe(height);
        }),
        BYTE_RUNS,
      );
    },
    SLOW,
  );
});
