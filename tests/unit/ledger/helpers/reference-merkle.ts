import { createHash } from 'node:crypto';

/**
 * RFC 9162 section 2.1 written as literally as possible (recursive, copying, slow), to check the
 * production code against an independent reading of the definitions. Buffers, not the code under test.
 */

const sha = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

function k(n: number): number {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}

/** MTH(D[n]) of section 2.1.1. */
export function referenceMth(d: readonly Uint8Array[]): Uint8Array {
  if (d.length === 0) return sha();
  if (d.length === 1) return sha(Uint8Array.of(0), d[0]!);
  const split = k(d.length);
  return sha(Uint8Array.of(1), referenceMth(d.slice(0, split)), referenceMth(d.slice(split)));
}

/** Number of nodes in PATH(m, D[n]) of section 2.1.3.1. */
export function referencePathLength(m: number, n: number): number {
  if (n <= 1) return 0;
  const split = k(n);
  return 1 + (m < split ? referencePathLength(m, split) : referencePathLength(m - split, n - split));
}
