import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  blockHash,
  buildBlocks,
  canonicalString,
  leafHash,
  rootFromLeafHashes,
  timestampSchema,
  toHex,
  toTimestamp,
  transactionSchema,
  verifyChain,
  verifyJsonl,
} from '../../../lib/ledger';
import { blockHashOfValidated } from '../../../lib/ledger/blocks';
import { isCanonicalOrderTransaction, leafHashOfText } from '../../../lib/ledger/canonical-transaction';
import { isLedgerTimestamp } from '../../../lib/ledger/time';
import {
  BYTE_RUNS,
  byteFlip,
  byteFlipArgs,
  FIELD_RUNS,
  fieldMutation,
  fieldMutationArgs,
  type Json,
  STRUCTURE_RUNS,
  structureMutation,
  structureOperation,
  TAMPER_CHAIN,
  TAMPER_HEAD,
} from './helpers/tamper';
import { buildChain, clone, sampleTransactions, T0, transactionArbitrary } from './helpers/transactions';

/**
 * The fast verifier (the default) against the reference one (zod on every block, the `canonicalize`
 * package on every transaction): same report, field for field, on valid chains, on the whole tamper
 * corpus, and on exports rewritten into equivalent but non-canonical JSON.
 */

const SLOW = 120_000;
const encoder = new TextEncoder();

/** Canonical lines; a mutation that left a lone surrogate has no canonical form, so plain JSON for it. */
function linesOf(blocks: readonly unknown[]): string[] {
  return blocks.map((b) => {
    try {
      return canonicalString(b);
    } catch {
      return JSON.stringify(b);
    }
  });
}

async function bothOnLines(lines: string[], head = TAMPER_HEAD) {
  const fast = await verifyJsonl(lines, { expectedHead: head });
  const reference = await verifyJsonl(lines, { expectedHead: head, mode: 'reference' });
  return { fast, reference };
}

async function bothOnBlocks(blocks: unknown[], head = TAMPER_HEAD) {
  const fast = await verifyChain(blocks, { expectedHead: head });
  const reference = await verifyChain(blocks, { expectedHead: head, mode: 'reference' });
  return { fast, reference };
}

/** A deterministic PRNG (mulberry32), so a failing rewrite is reproduced from its fast-check seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * JSON text equal in meaning to `value` but (usually) not canonical: shuffled keys, blanks between
 * tokens, \u escapes and "\/" in strings, numbers with ".0", "e0" or "E+0". No line breaks.
 */
function rewrite(value: Json, random: () => number): string {
  const blank = () => [' ', '', '\t', '  '][Math.floor(random() * 4)]!;
  const str = (s: string) => {
    let out = '"';
    for (const ch of s) {
      for (let i = 0; i < ch.length; i++) {
        const code = ch.charCodeAt(i);
        if (random() < 0.3) out += `\\u${code.toString(16).padStart(4, '0')}`;
        else if (ch === '/' && random() < 0.5) out += '\\/';
        else out += JSON.stringify(ch[i]).slice(1, -1);
      }
    }
    return `${out}"`;
  };
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    const plain = JSON.stringify(value);
    // An exponent is added only to numbers written without one (5e-324 + "e0" would not be JSON).
    const forms = plain.includes('e')
      ? ['']
      : Number.isInteger(value)
        ? ['.0', 'e0', '.00E+0', '']
        : ['e0', ''];
    return plain + forms[Math.floor(random() * forms.length)]!;
  }
  if (typeof value === 'string') return str(value);
  if (Array.isArray(value)) return `[${blank()}${value.map((v) => rewrite(v, random)).join(`${blank()},`)}]`;
  const keys = Object.keys(value).sort(() => random() - 0.5);
  const members = keys.map((k) => `${blank()}${str(k)}${blank()}:${blank()}${rewrite(value[k]!, random)}`);
  return `{${members.join(',')}${blank()}}`;
}

describe('isCanonicalOrderTransaction', () => {
  const validTx = transactionArbitrary(7).map((tx) => JSON.parse(canonicalString(tx)) as Json);

  it('accepts every valid transaction read back from its canonical text', () => {
    fc.assert(
      fc.property(validTx, (tx) => {
        expect(isCanonicalOrderTransaction(tx)).toBe(true);
      }),
      { numRuns: 300, seed: 11 },
    );
  });

  // The one direction soundness needs: whatever the fast check accepts, zod accepts and JSON.stringify
  // writes exactly as the canonicalize package does.
  const odd = fc.constantFrom<unknown>(
    undefined,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    -1,
    1.5,
    2 ** 53,
    '',
    'x'.repeat(129),
    'x'.repeat(257),
    'x'.repeat(4097),
    '\ud800',
    'a\udc00',
    'assigned',
    'done',
    '2026-02-30T00:00:00.000Z',
    '2026-11-21T06:00:00.000+00:00',
    '0'.repeat(32),
    'A'.repeat(32),
    '-task',
    [],
    {},
    { bw: 1 },
    { '10': 1, '9': 2 },
    { active_tasks: 1, reserved: {}, usage: {} },
    { active_tasks: -1, reserved: {}, usage: {} },
    { active_tasks: 1.5, reserved: {}, usage: {} },
    { reserved: {}, active_tasks: 1, usage: {} },
    { active_tasks: 1, reserved: { '\ud800': 1 }, usage: {} },
    { active_tasks: 1, reserved: { b: 1, a: 2 }, usage: {} },
    null,
    true,
  );
  const mutation = fc.record({
    depth: fc.nat(2),
    pick: fc.nat(),
    kind: fc.constantFrom('set', 'delete', 'add', 'reorder'),
    // Keys JavaScript objects treat specially: integer-like ones are reordered, "__proto__" is dropped on copy.
    newKey: fc.constantFrom('__proto__', '10', '9', '0', 'constructor', 'zzz', 'a', '\u00e9'),
    value: fc.oneof(odd, fc.jsonValue()),
  });

  it('accepts nothing that transactionSchema refuses or that JSON.stringify would write non-canonically', () => {
    let accepted = 0;
    fc.assert(
      fc.property(validTx, fc.array(mutation, { minLength: 1, maxLength: 3 }), (tx, mutations) => {
        const root = clone(tx) as Record<string, unknown>;
        for (const { depth, pick, kind, newKey, value } of mutations) {
          let node = root;
          for (let d = 0; d < depth; d++) {
            const children = Object.keys(node).filter((k) => typeof node[k] === 'object' && node[k] !== null);
            if (children.length === 0) break;
            node = node[children[pick % children.length]!] as Record<string, unknown>;
          }
          const keys = Object.keys(node);
          const key = keys.length > 0 ? keys[pick % keys.length]! : 'k';
          if (kind === 'set') node[key] = value;
          else if (kind === 'delete') delete node[key];
          else if (kind === 'add')
            Object.defineProperty(node, newKey, {
              value,
              enumerable: true,
              writable: true,
              configurable: true,
            });
          else {
            const v = node[key];
            delete node[key];
            node[key] = v;
          }
        }
        if (!isCanonicalOrderTransaction(root)) return;
        accepted += 1;
        expect(transactionSchema.safeParse(root).success).toBe(true);
        expect(JSON.stringify(root)).toBe(canonicalString(root));
      }),
      { numRuns: 3000, seed: 12 },
    );
    // Some mutations (a changed score, a new vector dimension that sorts last) keep a valid transaction.
    expect(accepted).toBeGreaterThan(0);
  });

  it('refuses integer-like vector keys that JavaScript reorders, which then take the reference path', () => {
    const tx = { ...sampleTransactions(1, 3)[0]!, task_requirements: { '10': 1, '9': 2 } };
    const text = canonicalString(tx);
    expect(text).toContain('{"10":1,"9":2}');
    expect(isCanonicalOrderTransaction(JSON.parse(text))).toBe(false);
  });

  it('leafHashOfText hashes 0x00 then the UTF-8 bytes of the text', () => {
    const text = canonicalString(sampleTransactions(1, 4)[0]!);
    expect(toHex(leafHashOfText(text))).toBe(toHex(leafHash(encoder.encode(text))));
    expect(toHex(leafHashOfText('é𝄞'))).toBe(
      toHex(leafHash(Uint8Array.of(0xc3, 0xa9, 0xf0, 0x9d, 0x84, 0x9e))),
    );
  });
});

describe('blockHashOfValidated', () => {
  it('equals blockHash for every schema-valid header', () => {
    const header = fc.record({
      height: fc.maxSafeNat(),
      timestamp: fc.integer({ min: 0, max: 253_402_300_799_999 }).map(toTimestamp),
      previous_hash: fc.uint8Array({ minLength: 32, maxLength: 32 }).map(toHex),
      merkle_root: fc.uint8Array({ minLength: 32, maxLength: 32 }).map(toHex),
      transaction_count: fc.maxSafeNat(),
    });
    fc.assert(
      fc.property(header, (h) => {
        expect(blockHashOfValidated(h)).toBe(blockHash(h));
      }),
      { numRuns: 500, seed: 16 },
    );
  });
});

describe('fast and reference verifiers agree', () => {
  it('on valid chains of random transactions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 7 }),
        fc.nat(),
        async (n, per, seed) => {
          const chain = buildChain(sampleTransactions(n, seed), per);
          const last = chain[chain.length - 1]!;
          const { fast, reference } = await bothOnLines(linesOf(chain), {
            height: last.height,
            hash: last.block_hash,
          });
          expect(fast.valid).toBe(true);
          expect(fast).toEqual(reference);
        },
      ),
      { numRuns: 40, seed: 13 },
    );
  });

  it('on a chain with integer-like vector keys (the reordered-keys fallback)', async () => {
    const txs = sampleTransactions(6, 21).map((tx, i) =>
      i % 2 === 0 ? { ...tx, task_requirements: { '10': i, '9': 1, cpu: 2 } } : tx,
    );
    const chain = buildChain(txs, 4);
    const last = chain[chain.length - 1]!;
    const { fast, reference } = await bothOnLines(linesOf(chain), {
      height: last.height,
      hash: last.block_hash,
    });
    expect(fast.valid).toBe(true);
    expect(fast).toEqual(reference);
  });

  it(
    'on every changed field of the tamper corpus, as blocks and as an export',
    async () => {
      await fc.assert(
        fc.asyncProperty(...fieldMutationArgs, async (height, pick, salt) => {
          const { blocks, label } = fieldMutation(height, pick, salt);
          const onBlocks = await bothOnBlocks(blocks);
          expect(onBlocks.fast, label).toEqual(onBlocks.reference);
          const onLines = await bothOnLines(linesOf(blocks));
          expect(onLines.fast, label).toEqual(onLines.reference);
          expect(onLines.fast.first_bad_height, label).toBe(height);
        }),
        FIELD_RUNS,
      );
    },
    SLOW,
  );

  it(
    'on every block-level edit of the tamper corpus',
    async () => {
      await fc.assert(
        fc.asyncProperty(structureOperation, async (operation) => {
          const { blocks, firstBad } = structureMutation(operation);
          const { fast, reference } = await bothOnLines(linesOf(blocks));
          expect(fast).toEqual(reference);
          expect(fast.first_bad_height).toBe(firstBad);
        }),
        STRUCTURE_RUNS,
      );
    },
    SLOW,
  );

  it(
    'on every flipped byte of the tamper corpus export',
    async () => {
      const lines = linesOf(TAMPER_CHAIN);
      await fc.assert(
        fc.asyncProperty(...byteFlipArgs, async (height, at, xor) => {
          const tampered = byteFlip(lines, height, at, xor);
          if (tampered === null) return;
          const { fast, reference } = await bothOnLines(tampered);
          expect(fast).toEqual(reference);
        }),
        BYTE_RUNS,
      );
    },
    SLOW,
  );

  it(
    'on exports rewritten as equivalent non-canonical JSON (both valid), and on such rewrites tampered',
    async () => {
      const original = linesOf(TAMPER_CHAIN);
      await fc.assert(
        fc.asyncProperty(
          fc.nat(),
          ...fieldMutationArgs,
          fc.boolean(),
          async (seed, height, pick, salt, tamper) => {
            const random = prng(seed);
            const blocks = tamper ? fieldMutation(height, pick, salt).blocks : TAMPER_CHAIN;
            const lines = blocks.map((b) => rewrite(b as unknown as Json, random));
            const { fast, reference } = await bothOnLines(lines);
            expect(fast).toEqual(reference);
            if (!tamper) {
              expect(lines).not.toEqual(original);
              expect(fast.valid).toBe(true);
            } else {
              expect(fast.first_bad_height).toBe(height);
            }
          },
        ),
        { numRuns: 150, seed: 14 },
      );
    },
    SLOW,
  );

  it('report a "__proto__" member injected into a resource vector as malformed', async () => {
    // JSON.parse keeps it as an own key; a copying validator would silently drop it and hash the rest.
    for (const [path, field] of [
      ['"task_requirements":{', '.task_requirements: '],
      ['"reserved":{', '.reserved: '],
    ] as const) {
      const lines = linesOf(TAMPER_CHAIN);
      lines[5] = lines[5]!.replace(path, `${path}"__proto__":1,`);
      expect(lines[5]).toContain('"__proto__":1');
      const { fast, reference } = await bothOnLines(lines);
      expect(fast).toEqual(reference);
      expect(fast, fast.detail ?? '').toMatchObject({
        valid: false,
        problem: 'malformed',
        first_bad_height: 5,
      });
      expect(fast.detail).toContain(`${field}must not have a "__proto__" member`);
    }
  });

  it('reject a transaction rewritten non-canonically with merkle_root and block_hash recomputed over its raw bytes', async () => {
    // What a raw-bytes verifier without a canonicity check would accept: the hashes are self-consistent.
    const blocks = clone(TAMPER_CHAIN);
    const last = blocks[blocks.length - 1]!;
    const raw = last.transactions.map((tx, i) =>
      i === 0 ? rewrite(tx as unknown as Json, prng(5)) : canonicalString(tx),
    );
    expect(raw[0]).not.toBe(canonicalString(last.transactions[0]));
    last.merkle_root = toHex(rootFromLeafHashes(raw.map((t) => leafHash(encoder.encode(t)))));
    last.block_hash = blockHash(last);
    const lines = [
      ...linesOf(blocks.slice(0, -1)),
      canonicalString({ ...last, transactions: [] }).replace(
        '"transactions":[]',
        `"transactions":[${raw.join(',')}]`,
      ),
    ];
    const head = { height: last.height, hash: last.block_hash };
    const { fast, reference } = await bothOnLines(lines, head);
    expect(fast).toEqual(reference);
    expect(fast, fast.detail ?? '').toMatchObject({
      valid: false,
      problem: 'wrong-merkle-root',
      first_bad_height: last.height,
    });
  });

  it('report the same duplicate transaction and underived transaction id', async () => {
    const txs = sampleTransactions(4, 31);
    const chain = buildChain(txs, 2);
    const tip = chain[chain.length - 1]!;
    // buildBlocks refuses a duplicate inside one batch, so the repeat comes in a later block.
    const repeat = buildBlocks({ height: tip.height, hash: tip.block_hash }, [txs[1]!], {
      timestamp: toTimestamp(T0),
    });
    const forged = buildChain([txs[0]!, { ...txs[1]!, transaction_id: 'f'.repeat(32) }], 2);
    const cases = [
      { blocks: [...chain, ...repeat], problem: 'duplicate-transaction', height: tip.height + 1 },
      { blocks: forged, problem: 'malformed', height: 1 },
    ];
    for (const { blocks, problem, height } of cases) {
      const last = blocks[blocks.length - 1]!;
      const { fast, reference } = await bothOnLines(linesOf(blocks), {
        height: last.height,
        hash: last.block_hash,
      });
      expect(fast).toEqual(reference);
      expect(fast).toMatchObject({ valid: false, problem, first_bad_height: height });
    }
  });
});

describe('isLedgerTimestamp', () => {
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  // Every field over its whole digit range, so impossible dates, hour 24 and second 60 come up often.
  const shaped = fc
    .record({
      year: fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(0, 1900, 2000, 2024, 2100)),
      month: fc.integer({ min: 0, max: 19 }),
      day: fc.integer({ min: 0, max: 39 }),
      hour: fc.integer({ min: 0, max: 29 }),
      minute: fc.integer({ min: 0, max: 69 }),
      second: fc.integer({ min: 0, max: 69 }),
      ms: fc.integer({ min: 0, max: 999 }),
    })
    .map(
      (t) =>
        `${pad(t.year, 4)}-${pad(t.month, 2)}-${pad(t.day, 2)}T${pad(t.hour, 2)}:${pad(t.minute, 2)}:` +
        `${pad(t.second, 2)}.${pad(t.ms, 3)}Z`,
    );

  it('accepts exactly what timestampSchema accepts', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(shaped, fc.string(), fc.constant('2024-02-29T23:59:59.999Z')), (s) => {
        const expected = timestampSchema.safeParse(s).success;
        expect(isLedgerTimestamp(s), s).toBe(expected);
        if (expected) accepted += 1;
      }),
      { numRuns: 20_000, seed: 17 },
    );
    expect(accepted).toBeGreaterThan(1000);
    expect(isLedgerTimestamp(12)).toBe(false);
  });
});
