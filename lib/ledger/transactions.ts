import { hash } from 'node:crypto';
import * as z from 'zod';
import { taskIdSchema } from '../schemas/task-input';
import { canonicalBytes, canonicalBytesOfValidated } from './canonical';
import { toHex } from './hash';
import { CompactRange } from './merkle/compact-range';
import { leafHash } from './merkle/hasher';
import { count, unicodeString, utf16Text } from './schema-parts';
import { timestampSchema } from './time';
import { type TaskOutcome, TRANSACTION_FORMAT_VERSION, type Transaction } from './types';

/** Which of the two transactions a task can ever have: its decision, and the end of its assignment. */
export type TransactionPhase = 'decision' | 'close';

/** Statuses recorded by each phase. */
export const PHASE_OF_STATUS = {
  assigned: 'decision',
  rejected: 'decision',
  completed: 'close',
  failed: 'close',
  expired: 'close',
} as const satisfies Record<Transaction['status'], TransactionPhase>;

/** Domain tag of transaction ids; bumping the version would change every id. */
export const TRANSACTION_ID_TAG = 'bcs/transaction-id/v1';

/**
 * The id of a task's decision or closing transaction: the first 32 hex digits (128 bits) of
 * SHA-256(UTF-8("bcs/transaction-id/v1" || 0x00 || phase || 0x00 || task_id)). Deterministic, so a
 * second decision (or closing) for the same task collides on the id and the store's uniqueness check
 * refuses it, even when two writers race.
 */
export function transactionId(taskId: string, phase: TransactionPhase): string {
  if (phase !== 'decision' && phase !== 'close') throw new TypeError(`unknown transaction phase "${phase}"`);
  // Hashing the string lets Node encode the UTF-8 inside the one-shot hash (same bytes as TextEncoder).
  return hash('sha256', `${TRANSACTION_ID_TAG}\u0000${phase}\u0000${taskId}`, 'hex').slice(0, 32);
}

const finite = z.number().finite();
// zod's record skips an own "__proto__" member (JSON.parse makes one) without a word, so a verifier
// would hash the vector without it and accept a line it was injected into: refused instead.
const withoutProtoMember = z.custom<unknown>(
  (v) => typeof v !== 'object' || v === null || !Object.hasOwn(v, '__proto__'),
  'must not have a "__proto__" member',
);
const resourceVectorSchema = withoutProtoMember.pipe(z.record(unicodeString, finite));
/** Per-device milli-GPU (docs/ledger-format.md 2.4): 1-64 integers from 0 to 1000. */
const gpusSchema = z.array(z.number().int().min(0).max(1000)).min(1).max(64);
const vmSnapshotSchema = z.strictObject({
  reserved: resourceVectorSchema,
  usage: resourceVectorSchema,
  active_tasks: count,
  gpus: gpusSchema.optional(),
});
/** Device indexes of an assignment or its closing: 1-64 integers from 0 to 63 (ascending and distinct: relations.ts). */
const devicesSchema = z.array(z.number().int().min(0).max(63)).min(1).max(64);

/** Signal names as Node reports them (`SIGKILL`, `SIGRTMIN`): SIG and 1-14 capitals or digits. */
export const SIGNAL_NAME = /^SIG[A-Z0-9]{1,14}$/;

/** How a run ended (docs/ledger-format.md 2.5); exactly one of exit_code and signal is not null (relations.ts). */
export const outcomeSchema = z.strictObject({
  exit_code: z.number().int().min(0).max(255).nullable(),
  signal: z.string().regex(SIGNAL_NAME, 'must be a signal name such as SIGKILL').nullable(),
  duration_ms: count,
  output_sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
}) satisfies z.ZodType<TaskOutcome>;

/** One ledger transaction as hashed: every field present, no extra field, every number finite. */
export const transactionSchema = z.strictObject({
  transaction_id: z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 lowercase hex digits'),
  timestamp: timestampSchema,
  task_id: taskIdSchema,
  vm_id: utf16Text(1, 256).nullable(),
  status: z.enum(['assigned', 'rejected', 'completed', 'failed', 'expired']),
  algorithm: utf16Text(1, 128),
  score: finite.nullable(),
  reason: utf16Text(0, 4096),
  task_requirements: resourceVectorSchema,
  vm_state_before: vmSnapshotSchema.nullable(),
  vm_state_after: vmSnapshotSchema.nullable(),
  devices: devicesSchema.optional(),
  format_version: z.literal(TRANSACTION_FORMAT_VERSION).optional(),
  outcome: outcomeSchema.optional(),
}) satisfies z.ZodType<Transaction>;

/**
 * The Merkle leaf entry of a transaction: its RFC 8785 canonical bytes. Throws CanonicalizationError
 * (naming the path) for a value with no canonical form.
 */
export function transactionEntry(tx: Transaction): Uint8Array {
  return canonicalBytes(tx);
}

/** A block's merkle_root: RFC 9162 MTH over the canonical bytes of its transactions, in block order, hex. */
export function transactionsRoot(transactions: readonly Transaction[]): string {
  return rootOver(transactions, transactionEntry);
}

/**
 * transactionsRoot for transactions transactionSchema has already accepted (plain, finite, nothing
 * undefined): skips the structural walk, which costs as much as the serialisation when a verifier
 * hashes millions of transactions. Internal to the ledger; not exported from the package index.
 */
export function transactionsRootOfValidated(transactions: readonly Transaction[]): string {
  return rootOver(transactions, canonicalBytesOfValidated);
}

function rootOver(transactions: readonly Transaction[], entry: (tx: Transaction) => Uint8Array): string {
  const range = new CompactRange();
  for (const tx of transactions) range.append(leafHash(entry(tx)));
  return toHex(range.root());
}
