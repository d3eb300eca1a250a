import { CompactRange } from './compact-range';
import { leafHash } from './hasher';

/** RFC 9162 section 2.1.1 MTH over leaves already hashed with leafHash. */
export function rootFromLeafHashes(leafHashes: Iterable<Uint8Array>): Uint8Array {
  const range = new CompactRange();
  for (const h of leafHashes) range.append(h);
  return range.root();
}

/** RFC 9162 section 2.1.1 MTH(D[n]) over the raw entries D. */
export function merkleRoot(leaves: Iterable<Uint8Array>): Uint8Array {
  const range = new CompactRange();
  for (const entry of leaves) range.append(leafHash(entry));
  return range.root();
}
