/**
 * RFC 9162 section 2.1 Merkle trees: tree heads, inclusion proofs and consistency proofs.
 * All values are bytes; leaves are raw entries unless a name says "leaf hashes".
 */
export { CompactRange } from './compact-range';
export { DenseMerkleTree } from './dense-tree';
export {
  emptyRoot,
  LEAF_HASH_PREFIX,
  leafHash,
  NODE_HASH_PREFIX,
  nodeHash,
  splitPoint,
} from './hasher';
export {
  consistencyPath,
  consistencyProof,
  consistencyProofFromLeafHashes,
  inclusionPath,
  inclusionProof,
  inclusionProofFromLeafHashes,
  type SubtreeRoot,
} from './proof';
export { merkleRoot, rootFromLeafHashes } from './tree';
export {
  rootFromInclusionProof,
  rootsFromConsistencyProof,
  verifyConsistency,
  verifyInclusion,
  verifyInclusionOfLeafHash,
} from './verify';
