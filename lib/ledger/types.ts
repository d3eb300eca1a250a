import type { ResourceVector } from '../model/resources';
import type { VmSnapshot } from '../model/vm';

/**
 * Ledger data model. The exact bytes that are hashed are defined in docs/ledger-format.md;
 * field names are snake_case because they are the wire and hash format.
 */

export type TransactionStatus = 'assigned' | 'rejected' | 'completed' | 'failed' | 'expired';

/** The transaction format this code writes (docs/ledger-format.md section 2.5); absent means 1 or 2. */
export const TRANSACTION_FORMAT_VERSION = 3;

/**
 * How a task's run ended, as its runner reported it (docs/ledger-format.md section 2.5): exactly one
 * of `exit_code` and `signal` is not null.
 */
export interface TaskOutcome {
  /** The process's exit status, 0-255, or null when a signal ended it. */
  exit_code: number | null;
  /** The signal that ended it, e.g. "SIGKILL", or null when it exited. */
  signal: string | null;
  /** Wall-clock run time in whole milliseconds. */
  duration_ms: number;
  /** SHA-256 (hex) of the output the runner captured (docs/agent.md says which bytes). */
  output_sha256: string;
}

/**
 * One scheduling event: a decision (assigned | rejected) or the end of an assignment
 * (completed | failed | expired).
 */
export interface Transaction {
  transaction_id: string;
  /** RFC 3339 UTC with milliseconds, e.g. "2026-11-21T05:28:25.123Z". */
  timestamp: string;
  task_id: string;
  vm_id: string | null;
  status: TransactionStatus;
  algorithm: string;
  score: number | null;
  reason: string;
  task_requirements: ResourceVector;
  vm_state_before: VmSnapshot | null;
  vm_state_after: VmSnapshot | null;
  /**
   * On an `assigned` transaction whose task got GPU devices: their local indexes on the VM,
   * ascending (what CUDA_VISIBLE_DEVICES takes); on its closing, the same devices, freed. Left out
   * otherwise (docs/ledger-format.md 2.4).
   */
  devices?: number[];
  /** 3 on every transaction this code writes; absent on those written under formats 1 and 2. */
  format_version?: number;
  /** On a `completed` or `failed` closing whose runner reported how it ended (format 3 only). */
  outcome?: TaskOutcome;
}

export interface BlockHeader {
  height: number;
  timestamp: string;
  previous_hash: string;
  merkle_root: string;
  transaction_count: number;
}

/** A block: its header fields, the header's hash, and the transactions the Merkle root commits to. */
export interface Block extends BlockHeader {
  block_hash: string;
  transactions: Transaction[];
}

/** The tip of the chain, as a writer reads it and as a conditional append expects it. */
export interface ChainHead {
  height: number;
  hash: string;
}

/**
 * A digest is what an auditor keeps to detect rollback later: the head, plus the RFC 9162 Merkle
 * root over all block hashes (heights 0..height), so that a later digest can be proven to extend it.
 */
export interface Digest {
  height: number;
  head_hash: string;
  /** Number of leaves in the block-hash tree: height + 1 (genesis included). */
  tree_size: number;
  /** RFC 9162 MTH over the 32-byte block hashes of heights 0..height, hex. */
  blocks_root: string;
  transaction_count: number;
  timestamp: string;
}

export type VerificationProblem =
  | 'broken-link'
  | 'wrong-block-hash'
  | 'wrong-merkle-root'
  | 'wrong-transaction-count'
  | 'height-gap'
  | 'bad-genesis'
  | 'malformed'
  | 'duplicate-transaction'
  | 'unmatched-closing'
  | 'head-mismatch'
  | 'digest-mismatch'
  | 'inconsistent-with-digest';

export interface VerificationReport {
  valid: boolean;
  height: number;
  head_hash: string | null;
  blocks_checked: number;
  transactions_checked: number;
  /** First bad block, if any. */
  first_bad_height: number | null;
  problem: VerificationProblem | null;
  detail: string | null;
}

/**
 * A two-level inclusion proof, JSON-friendly (hex): `transaction` is leaf `index` of the block whose
 * header is `block_header` (tx_proof: RFC 9162 PATH under merkle_root), and that block's hash is leaf
 * `height` of the block-hash tree whose head is `digest.blocks_root` (block_proof: PATH under it).
 */
export interface TransactionProof {
  transaction: Transaction;
  height: number;
  index: number;
  tx_proof: string[];
  block_header: BlockHeader;
  block_proof: string[];
  digest: Digest;
}
