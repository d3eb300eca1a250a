import fc from 'fast-check';
import type { Block } from '../../../../lib/ledger/types';
import { buildChain, clone, sampleTransactions } from './transactions';

/**
 * The tamper corpus: a 50-block chain and three families of mutations drawn with fixed seeds (300 changed
 * fields, 200 block-level edits, 300 flipped export bytes). tamper.test.ts checks each is detected at the
 * right height; fast-verifier.test.ts replays the same cases to hold the fast verifier to the reference.
 */

export const TAMPER_CHAIN = buildChain(sampleTransactions(150, 2026), 3); // genesis + 50 blocks
export const LAST_HEIGHT = TAMPER_CHAIN.length - 1;
export const TAMPER_HEAD = { height: LAST_HEIGHT, hash: TAMPER_CHAIN[LAST_HEIGHT]!.block_hash };

export const FIELD_RUNS = { numRuns: 300, seed: 1 } as const;
export const STRUCTURE_RUNS = { numRuns: 200, seed: 2 } as const;
export const BYTE_RUNS = { numRuns: 300, seed: 3 } as const;

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

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

/** Arguments of fieldMutation: which block, which leaf of it, how to change it. */
export const fieldMutationArgs = [fc.nat(LAST_HEIGHT), fc.nat(), fc.nat()] as const;

/** The chain with one leaf value of block `height` changed; `label` names it for failure messages. */
export function fieldMutation(
  height: number,
  pick: number,
  salt: number,
): { blocks: Block[]; label: string } {
  const blocks = clone(TAMPER_CHAIN) as unknown as Json[];
  const paths = leaves(blocks[height]!);
  const path = paths[pick % paths.length]!;
  setAt(blocks[height]!, path, changed(getAt(blocks[height]!, path), salt));
  return { blocks: blocks as unknown as Block[], label: `${height}:${path.join('.')}` };
}

export const structureOperation = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(LAST_HEIGHT) }),
  fc.record({ op: fc.constant('swap' as const), at: fc.nat(LAST_HEIGHT - 1) }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(LAST_HEIGHT) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat(LAST_HEIGHT - 1) }),
  fc.record({
    op: fc.constant('move' as const),
    at: fc.nat(LAST_HEIGHT - 2),
    to: fc.integer({ min: 2, max: 20 }),
  }),
);

export type StructureOperation = typeof structureOperation extends fc.Arbitrary<infer T> ? T : never;

/** The chain after a block-level edit, and the first height the edit affects. */
export function structureMutation(operation: StructureOperation): { blocks: Block[]; firstBad: number } {
  const b = clone(TAMPER_CHAIN);
  const { at } = operation;
  switch (operation.op) {
    case 'delete':
      // A missing last block shows as a chain short of the expected head at `at`.
      return { blocks: [...b.slice(0, at), ...b.slice(at + 1)], firstBad: at };
    case 'swap':
      return { blocks: [...b.slice(0, at), b[at + 1]!, b[at]!, ...b.slice(at + 2)], firstBad: at };
    case 'duplicate':
      return { blocks: [...b.slice(0, at + 1), b[at]!, ...b.slice(at + 1)], firstBad: at + 1 };
    case 'truncate':
      return { blocks: b.slice(0, at + 1), firstBad: at + 1 };
    case 'move': {
      const to = Math.min(at + operation.to, LAST_HEIGHT);
      const rest = [...b.slice(0, at), ...b.slice(at + 1)];
      return { blocks: [...rest.slice(0, to), b[at]!, ...rest.slice(to)], firstBad: at };
    }
  }
}

/** Arguments of byteFlip: which line, which byte, which bits. */
export const byteFlipArgs = [fc.nat(LAST_HEIGHT), fc.nat(), fc.integer({ min: 1, max: 127 })] as const;

/**
 * The export lines (without "\n") with one byte of line `height` XORed, or null when the flip would make
 * a line break (which would split the line in two rather than tamper with it).
 */
export function byteFlip(lines: readonly string[], height: number, at: number, xor: number): string[] | null {
  const bytes = new TextEncoder().encode(lines[height]!);
  const i = at % bytes.length;
  bytes[i]! ^= xor;
  if (bytes[i] === 0x0a || bytes[i] === 0x0d) return null;
  return [...lines.slice(0, height), new TextDecoder().decode(bytes), ...lines.slice(height + 1)];
}
