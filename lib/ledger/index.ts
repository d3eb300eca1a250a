export type { BuildBlocksOptions } from './blocks';
export {
  blockHash,
  blockHeaderSchema,
  blockSchema,
  buildBlocks,
  chainHeadSchema,
  DEFAULT_MAX_PER_BLOCK,
  GENESIS,
  GENESIS_HASH,
  genesisBlock,
} from './blocks';
export { canonicalBytes, canonicalString } from './canonical';
export type { ChainVerification, VerifierMode } from './chain-verifier';
export { ChainFailure, ChainVerifier } from './chain-verifier';
export {
  blockLeafHash,
  computeDigest,
  DigestBuilder,
  digestConsistencyProof,
  digestSchema,
  verifyDigestConsistency,
} from './digest';
export { CanonicalizationError, MerkleRangeError } from './errors';
export { bytesEqual, fromHex, HASH_SIZE, sha256, sha256Hex, toHex } from './hash';
export { exportJsonl, jsonlValues, parseJsonl, readJsonlFile, readLines } from './jsonl';
export * from './merkle';
export { transactionProof, transactionProofSchema, verifyTransactionProof } from './proofs';
export { timestampSchema, toTimestamp } from './time';
export type { TransactionPhase } from './transactions';
export {
  outcomeSchema,
  PHASE_OF_STATUS,
  SIGNAL_NAME,
  TRANSACTION_ID_TAG,
  transactionEntry,
  transactionId,
  transactionSchema,
  transactionsRoot,
} from './transactions';
export type * from './types';
export { TRANSACTION_FORMAT_VERSION } from './types';
export type { VerifyChainOptions } from './verify';
export { verifyChain, verifyJsonl, verifyJsonlFile } from './verify';
