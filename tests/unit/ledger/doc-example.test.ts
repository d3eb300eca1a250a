import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  canonicalString,
  GENESIS_HASH,
  parseJsonl,
  verifyChain,
  verifyDigestConsistency,
  verifyTransactionProof,
} from '../../../lib/ledger';
import type { Block } from '../../../lib/ledger/types';
import { buildExample, exampleChain } from '../../../scripts/ledger/example';

/** docs/ledger-format.md shows real hashes; this keeps the document, the vectors and the code in step. */

const root = new URL('../../../', import.meta.url);
const doc = readFileSync(new URL('docs/ledger-format.md', root), 'utf8');
const vectors = JSON.parse(readFileSync(new URL('tests/vectors/ledger-example.json', root), 'utf8'));
const example = buildExample();

/** Every string in the example that the document must quote verbatim (hashes and canonical JSON). */
function quotable(value: unknown): string[] {
  if (typeof value === 'string') return /^[0-9a-f]{32,}$/.test(value) || value.startsWith('{') ? [value] : [];
  if (Array.isArray(value)) return value.flatMap(quotable);
  if (value && typeof value === 'object') return Object.values(value).flatMap(quotable);
  return [];
}

describe('the worked example of docs/ledger-format.md', () => {
  it('is what scripts/ledger/example.ts computes now (vectors regenerated when the format changes)', () => {
    expect(vectors).toEqual(JSON.parse(JSON.stringify(example)));
  });

  it('quotes every hash and canonical text of the example verbatim', () => {
    const { transaction_proof: _proof, ...shown } = example;
    const missing = quotable(shown).filter((s) => !doc.includes(s));
    expect(missing).toEqual([]);
    expect(quotable(shown).length).toBeGreaterThan(20);
  });

  it('shows the genesis block as the code builds it', () => {
    expect(doc).toContain(canonicalString({ ...exampleChain()[0]! }));
    expect(doc).toContain(GENESIS_HASH);
  });

  it('has its chain file verify, and its proofs hold', async () => {
    const lines = readFileSync(new URL('tests/vectors/ledger-example.jsonl', root), 'utf8').split('\n');
    const blocks: Block[] = [];
    for await (const b of parseJsonl(lines)) blocks.push(b);
    expect(blocks).toEqual(exampleChain());
    expect(await verifyChain(blocks)).toMatchObject({ valid: true, height: 2, transactions_checked: 3 });
    expect(verifyTransactionProof(example.transaction_proof, example.digest_height_2)).toBe(true);
    expect(
      verifyDigestConsistency(
        example.digest_height_1,
        example.digest_height_2,
        example.consistency_proof_1_to_2,
      ),
    ).toBe(true);
  });
});
