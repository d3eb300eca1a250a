import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors';
import {
  blockLeafHash,
  computeDigest,
  DenseMerkleTree,
  DigestBuilder,
  digestConsistencyProof,
  fromHex,
  merkleRoot,
  toHex,
  toTimestamp,
  transactionProof,
  transactionProofSchema,
  verifyDigestConsistency,
  verifyTransactionProof,
} from '../../../lib/ledger';
import type { Digest, TransactionProof } from '../../../lib/ledger/types';
import { buildChain, clone, sampleTransactions, T0 } from './helpers/transactions';

const chain = buildChain(sampleTransactions(60, 11), 4); // genesis + 15 blocks
const hashes = chain.map((b) => b.block_hash);
const AT = toTimestamp(T0);
const digestAt = (height: number): Digest => computeDigest(chain.slice(0, height + 1), AT);

describe('computeDigest', () => {
  it('is the head plus the MTH over the raw 32-byte block hashes', () => {
    const d = digestAt(15);
    expect(d).toEqual({
      height: 15,
      head_hash: hashes[15],
      tree_size: 16,
      blocks_root: toHex(merkleRoot(hashes.map(fromHex))),
      transaction_count: 60,
      timestamp: AT,
    });
  });

  it('covers genesis alone', () => {
    expect(digestAt(0)).toMatchObject({
      height: 0,
      tree_size: 1,
      blocks_root: toHex(blockLeafHash(hashes[0]!)),
    });
  });

  it('refuses blocks out of height order and an empty chain', () => {
    expect(() => computeDigest([chain[0]!, chain[2]!], AT)).toThrow(RangeError);
    expect(() => computeDigest([], AT)).toThrow(RangeError);
    expect(() => new DigestBuilder().append(chain[1]!)).toThrow(/height 1 appended where 0 was due/);
  });

  it('refuses a malformed timestamp', () => {
    expect(() => computeDigest(chain, 'now')).toThrow(ValidationError);
  });
});

describe('digest consistency (rollback detection)', () => {
  it('proves every earlier digest is a prefix of every later one', () => {
    for (let newer = 0; newer < chain.length; newer++) {
      const known = hashes.slice(0, newer + 1);
      for (let older = 0; older <= newer; older++) {
        const proof = digestConsistencyProof(known, older + 1);
        expect(verifyDigestConsistency(digestAt(older), digestAt(newer), proof), `${older} -> ${newer}`).toBe(
          true,
        );
      }
    }
  });

  it('gives the same proofs from a DenseMerkleTree of block leaf hashes', () => {
    const tree = new DenseMerkleTree();
    for (const h of hashes) tree.append(blockLeafHash(h));
    for (let older = 1; older <= hashes.length; older++) {
      expect(digestConsistencyProof(tree, older)).toEqual(digestConsistencyProof(hashes, older));
    }
  });

  it('fails when the chain was rewritten and re-digested', () => {
    const forged = [...hashes];
    forged[3] = 'ab'.repeat(32);
    const forgedDigest = { ...digestAt(15), blocks_root: toHex(merkleRoot(forged.map(fromHex))) };
    const proof = digestConsistencyProof(forged, 8);
    expect(verifyDigestConsistency(digestAt(7), forgedDigest, proof)).toBe(false);
  });

  it('fails a rollback presented as the newer digest, and any tampered proof', () => {
    const proof = digestConsistencyProof(hashes, 6);
    expect(verifyDigestConsistency(digestAt(5), digestAt(15), proof)).toBe(true);
    expect(verifyDigestConsistency(digestAt(15), digestAt(5), proof)).toBe(false);
    expect(verifyDigestConsistency(digestAt(5), digestAt(15), proof.slice(1))).toBe(false);
    expect(verifyDigestConsistency(digestAt(5), digestAt(15), [...proof].reverse())).toBe(false);
    expect(verifyDigestConsistency(digestAt(5), digestAt(15), ['zz', ...proof.slice(1)])).toBe(false);
  });

  it('fails equal sizes with different heads, and malformed digests', () => {
    const other = { ...digestAt(5), head_hash: 'c'.repeat(64) };
    expect(verifyDigestConsistency(digestAt(5), other, [])).toBe(false);
    expect(
      verifyDigestConsistency(
        { ...digestAt(5), tree_size: 5 },
        digestAt(15),
        digestConsistencyProof(hashes, 6),
      ),
    ).toBe(false);
  });

  it('refuses a proof from size 0: a digest covers at least genesis', () => {
    expect(() => digestConsistencyProof(hashes, 0)).toThrow(ValidationError);
  });
});

describe('transaction proofs', () => {
  const digest = digestAt(15);

  it('prove every transaction of every block, and survive a JSON round trip', () => {
    for (const block of chain.slice(1)) {
      block.transactions.forEach((_, i) => {
        const proof = transactionProof(block, i, hashes, digest);
        expect(proof.transaction).toEqual(block.transactions[i]);
        expect(verifyTransactionProof(JSON.parse(JSON.stringify(proof)), digest)).toBe(true);
        expect(transactionProofSchema.safeParse(proof).success).toBe(true);
      });
    }
  });

  it('prove a transaction in the head block', () => {
    const proof = transactionProof(chain[15]!, 2, hashes, digest);
    expect(verifyTransactionProof(proof)).toBe(true);
  });

  const base = transactionProof(chain[6]!, 1, hashes, digest);
  const mutations: [string, (p: TransactionProof) => void][] = [
    ['edited transaction', (p) => (p.transaction.reason = `${p.transaction.reason}.`)],
    ['wrong index', (p) => (p.index = 2)],
    ['wrong height', (p) => (p.height = 7)],
    ['edited header timestamp', (p) => (p.block_header.timestamp = toTimestamp(T0 + 5))],
    ['edited header merkle_root', (p) => (p.block_header.merkle_root = 'b'.repeat(64))],
    ['edited transaction_count', (p) => (p.block_header.transaction_count = 5)],
    [
      'flipped tx_proof',
      (p) => (p.tx_proof[0] = `${p.tx_proof[0]!.slice(0, -1)}${p.tx_proof[0]!.endsWith('0') ? '1' : '0'}`),
    ],
    ['truncated tx_proof', (p) => p.tx_proof.pop()],
    ['flipped block_proof', (p) => (p.block_proof[1] = 'f'.repeat(64))],
    ['extended block_proof', (p) => p.block_proof.push('0'.repeat(64))],
    ['digest with another root', (p) => (p.digest.blocks_root = digestAt(14).blocks_root)],
    ['digest with another size', (p) => (p.digest = digestAt(14))],
    ['malformed digest', (p) => (p.digest.tree_size = 3)],
  ];

  it.each(mutations)('fail with a %s', (_label, mutate) => {
    const proof = clone(base);
    mutate(proof);
    expect(verifyTransactionProof(proof)).toBe(false);
  });

  it('fail against a trusted digest other than the one they carry', () => {
    expect(verifyTransactionProof(base, digest)).toBe(true);
    const older = transactionProof(chain[6]!, 1, hashes.slice(0, 10), digestAt(9));
    expect(verifyTransactionProof(older)).toBe(true);
    expect(verifyTransactionProof(older, digest)).toBe(false);
  });

  it('fail when the carried digest head is not the block at its height', () => {
    const head = transactionProof(chain[15]!, 0, hashes, digest);
    expect(verifyTransactionProof({ ...head, digest: { ...digest, head_hash: hashes[14]! } })).toBe(false);
  });

  it('come out the same from a DenseMerkleTree of block leaf hashes, which may hold more blocks', () => {
    const tree = new DenseMerkleTree();
    for (const h of hashes) tree.append(blockLeafHash(h));
    expect(transactionProof(chain[6]!, 1, tree, digest)).toEqual(base);
    const older = digestAt(9);
    expect(transactionProof(chain[6]!, 1, tree, older)).toEqual(
      transactionProof(chain[6]!, 1, hashes.slice(0, 10), older),
    );
    expect(() => transactionProof(chain[12]!, 0, tree, older)).toThrow(/beyond the digest/);
  });

  it('refuse a digest whose blocks_root is not the root of the given block hashes', () => {
    expect(() => transactionProof(chain[6]!, 1, hashes, { ...digest, blocks_root: 'e'.repeat(64) })).toThrow(
      /digest\.blocks_root/,
    );
  });

  it('refuse to build from arguments that do not fit together, naming them', () => {
    expect(() => transactionProof(chain[6]!, 9, hashes, digest)).toThrow(/index/);
    expect(() => transactionProof(chain[6]!, 0, hashes.slice(0, 12), digest)).toThrow(/blockHashes/);
    const stranger = { ...chain[6]!, block_hash: 'a'.repeat(64) };
    expect(() => transactionProof(stranger, 0, hashes, digest)).toThrow(/block/);
  });
});
