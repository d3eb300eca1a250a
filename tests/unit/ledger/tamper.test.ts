import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalString, exportJsonl, parseJsonl, verifyChain, verifyJsonl } from '../../../lib/ledger';
import type { Block } from '../../../lib/ledger/types';
import { buildChain, clone, sampleTransactions } from './helpers/transactions';

/**
 * Tamper detection: a 50-block chain of random transactions, then hundreds of random mutations. Each must
 * make verifyChain report the chain invalid and name the block that was touched.
 */

const chain = buildChain(sampleTransactions(150, 2026), 3); // genesis + 50 blocks
// Hundreds of whole-chain verifications on a shared 2-core machine: generous, never a timing assertion.
const SLOW = 120_000;
const lastHeight = chain.length - 1;
const head = { height: lastHeight, hash: chain[lastHeight]!.block_hash };

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every leaf value of a JSON value, by path. */
function leaves(value: Json, path: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [path];
  const entries: [string | number, Json][] = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : Object.entries(value);
  if (entries.length === 0) return [path];
  return entries.flatMap(([k, v]) => leaves(v, [...path, k]));
}

/** A value of the same JSON type that differs from `value`. */
function changed(value: Json, salt: number): Json {
  if (value === null) return salt % 2 === 0 ? 0 : 'x';
  if (typeof value === 'number') return value + 1 + (salt % 3);
  if (typeof value === 'boolean') return !value;
  if (typeof value === 'string') {
    if (value.length === 0) return 'x';
    const i = salt % value.length;
    const code = value.charCodeAt(i);
    // Flip a low bit but stay out of the surrogate range, so the change is always a real one.
    const next = code >= 0xd800 && code <= 0xdfff ? 0x41 : code ^ (1 + (salt % 7));
    return value.slice(0, i) + String.fromCharCode(next) + value.slice(i + 1);
  }
  return Array.isArray(value) ? [...value, 0] : { ...value, injected: 1 };
}

function setAt(root: Json, path: (string | number)[], value: Json): void {
  let node = root as Record<string | number, Json>;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, Json>;
  node[path[path.length - 1]!] = value;
}

function getAt(root: Json, path: (string | number)[]): Json {
  let node = root;
  for (const k of path) node = (node as Record<string | number, Json>)[k]!;
  return node;
}

describe('tamper detection on a 50-block chain', () => {
  it('is valid before any mutation', async () => {
    expect(await verifyChain(chain, { expectedHead: head })).toMatchObject({ valid: true, height: 50 });
  });

  it(
    'any changed field of any block or transaction is caught at that block',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.nat(lastHeight), fc.nat(), fc.nat(), async (height, pick, salt) => {
          const blocks = clone(chain) as unknown as Json[];
          const paths = leaves(blocks[height]!);
          const path = paths[pick % paths.length]!;
          const before = getAt(blocks[height]!, path);
          setAt(blocks[height]!, path, changed(before, salt));
          const report = await verifyChain(blocks as unknown as Block[], { expectedHead: head });
          expect(report.valid, `${height}:${path.join('.')}`).toBe(false);
          // A changed height collides with the next expected height only as a gap; anything else is at `height`.
          expect(report.first_bad_height, `${height}:${path.join('.')} -> ${report.problem}`).toBe(height);
        }),
        { numRuns: 300, seed: 1 },
      );
    },
    SLOW,
  );

  it(
    'deleted, reordered, duplicated and truncated blocks are caught at the first affected height',
    async () => {
      const operations = fc.oneof(
        fc.record({ op: fc.constant('delete' as const), at: fc.nat(lastHeight) }),
        fc.record({ op: fc.constant('swap' as const), at: fc.nat(lastHeight - 1) }),
        fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(lastHeight) }),
        fc.record({ op: fc.constant('truncate' as const), at: fc.nat(lastHeight - 1) }),
        fc.record({
          op: fc.constant('move' as const),
          at: fc.nat(lastHeight - 2),
          to: fc.integer({ min: 2, max: 20 }),
        }),
      );
      await fc.assert(
        fc.asyncProperty(operations, async (operation) => {
          const b = clone(chain);
          const { at } = operation;
          let mutated: Block[];
          let firstBad: number;
          switch (operation.op) {
            case 'delete':
              mutated = [...b.slice(0, at), ...b.slice(at + 1)];
              firstBad = at; // a missing last block shows as a chain short of the expected head at `at`
              break;
            case 'swap':
              mutated = [...b.slice(0, at), b[at + 1]!, b[at]!, ...b.slice(at + 2)];
              firstBad = at;
              break;
            case 'duplicate':
              mutated = [...b.slice(0, at + 1), b[at]!, ...b.slice(at + 1)];
              firstBad = at + 1;
              break;
            case 'truncate':
              mutated = b.slice(0, at + 1);
              firstBad = at + 1;
              break;
            case 'move': {
              const to = Math.min(at + operation.to, lastHeight);
              const rest = [...b.slice(0, at), ...b.slice(at + 1)];
              mutated = [...rest.slice(0, to), b[at]!, ...rest.slice(to)];
              firstBad = at;
              break;
            }
          }
          const report = await verifyChain(mutated, { expectedHead: head });
          expect(report.valid).toBe(false);
          expect(report.first_bad_height, `${JSON.stringify(operation)} -> ${report.problem}`).toBe(firstBad);
        }),
        { numRuns: 200, seed: 2 },
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
        fc.asyncProperty(
          fc.nat(lastHeight),
          fc.nat(),
          fc.integer({ min: 1, max: 127 }),
          async (height, at, xor) => {
            const bytes = new TextEncoder().encode(lines[height]!);
            const i = at % bytes.length;
            bytes[i]! ^= xor;
            // Keep the line a single line: a flipped byte that makes a newline would split it into two.
            if (bytes[i] === 0x0a || bytes[i] === 0x0d) return;
            const tampered = [
              ...lines.slice(0, height),
              new TextDecoder().decode(bytes),
              ...lines.slice(height + 1),
            ];
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
          },
        ),
        { numRuns: 300, seed: 3 },
      );
    },
    SLOW,
  );
});
