import { hash } from 'node:crypto';
import { taskIdSchema } from '../schemas/task-input';
import { toHex } from './hash';
import { CompactRange } from './merkle/compact-range';
import { LONE_SURROGATE } from './schema-parts';
import { isLedgerTimestamp } from './time';
import { SIGNAL_NAME } from './transactions';
import { type TaskOutcome, TRANSACTION_FORMAT_VERSION, type Transaction } from './types';

/**
 * The verifier's fast path for one transaction as JSON.parse (or a store) hands it over. Two facts make
 * it both fast and exact:
 *
 * 1. `canonicalize` (the RFC 8785 oracle) is JSON.stringify with every object's keys sorted by UTF-16
 *    code units. When each object's own key order already IS that order, as in a canonical export, whose
 *    lines JSON.parse reads back in source order, JSON.stringify (native) produces the same string
 *    byte for byte. Integer-like keys ("10", "9") are the one place where JavaScript reorders keys;
 *    the check below then sees an unsorted object and the caller falls back to `canonicalize`.
 * 2. The predicate accepts only values transactionSchema accepts (it is stricter, never looser: the
 *    tests check that direction), so a transaction it passes needs no zod run. Anything it refuses,
 *    including a valid transaction with keys in another order, goes through zod and `canonicalize`,
 *    which give the reference verdict and error message.
 *
 * Why not hash the export's raw bytes instead of re-serialising: without an expected head or digest, a
 * verifier can only check that a chain is self-consistent, and a tamperer who rewrites a transaction
 * non-canonically can recompute merkle_root and every later hash. Hashing raw bytes would then accept a
 * chain whose leaves are not the canonical bytes the format defines; the reference rejects it. So raw
 * bytes can only be hashed after proving them canonical and schema-valid, which is exactly the work
 * JSON.parse + this predicate + JSON.stringify do, in native code for the two heavy steps.
 */

// Sorted by UTF-16 code units, the order RFC 8785 section 3.2.3 writes them in, with the optional
// members (docs/ledger-format.md 2.4, 2.5) in their sorted places.
const ALL_TRANSACTION_KEYS = [
  'algorithm',
  'devices',
  'format_version',
  'outcome',
  'reason',
  'score',
  'status',
  'task_id',
  'task_requirements',
  'timestamp',
  'transaction_id',
  'vm_id',
  'vm_state_after',
  'vm_state_before',
] as const;
const OPTIONAL_KEYS = new Set(['devices', 'format_version', 'outcome']);
const OUTCOME_KEYS = ['duration_ms', 'exit_code', 'output_sha256', 'signal'] as const;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const SNAPSHOT_KEYS = ['active_tasks', 'reserved', 'usage'] as const;
const SNAPSHOT_KEYS_WITH_GPUS = ['active_tasks', 'gpus', 'reserved', 'usage'] as const;

/** An array of `min`-`max` integers from `lo` to `hi` (the shapes of devices and gpus). */
function isIntegerList(value: unknown, lo: number, hi: number): boolean {
  if (!Array.isArray(value) || value.length < 1 || value.length > 64) return false;
  for (const x of value) if (!Number.isSafeInteger(x) || x < lo || x > hi) return false;
  return true;
}
const STATUSES = new Set(['assigned', 'rejected', 'completed', 'failed', 'expired']);
const TRANSACTION_ID = /^[0-9a-f]{32}$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The transaction's own keys are the required ones plus some optional ones, all in sorted order. */
function hasTransactionKeys(value: Record<string, unknown>): boolean {
  const own = Object.keys(value);
  let k = 0;
  for (const key of ALL_TRANSACTION_KEYS) {
    if (own[k] === key) k++;
    else if (!OPTIONAL_KEYS.has(key)) return false;
  }
  return k === own.length;
}

function isOutcome(value: unknown): boolean {
  if (value === undefined) return true;
  if (!isPlainObject(value) || !hasKeysExactly(value, OUTCOME_KEYS)) return false;
  const { exit_code, signal, duration_ms, output_sha256 } = value;
  return (
    (exit_code === null ||
      (typeof exit_code === 'number' && Number.isInteger(exit_code) && exit_code >= 0 && exit_code <= 255)) &&
    (signal === null || (typeof signal === 'string' && SIGNAL_NAME.test(signal))) &&
    typeof duration_ms === 'number' &&
    Number.isSafeInteger(duration_ms) &&
    duration_ms >= 0 &&
    typeof output_sha256 === 'string' &&
    SHA256_HEX.test(output_sha256)
  );
}

function hasKeysExactly(value: Record<string, unknown>, keys: readonly string[]): boolean {
  const own = Object.keys(value);
  if (own.length !== keys.length) return false;
  for (let i = 0; i < keys.length; i++) if (own[i] !== keys[i]) return false;
  return true;
}

function isText(value: unknown, min: number, max: number): value is string {
  return (
    typeof value === 'string' && value.length >= min && value.length <= max && !LONE_SURROGATE.test(value)
  );
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/**
 * A resource vector whose keys are valid Unicode in ascending code-unit order, none "__proto__" (which
 * transactionSchema refuses), and whose values are finite.
 */
function isSortedVector(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  let previous: string | null = null;
  for (const key of Object.keys(value)) {
    if ((previous !== null && !(previous < key)) || key === '__proto__' || LONE_SURROGATE.test(key)) {
      return false;
    }
    if (!isFiniteNumber(value[key])) return false;
    previous = key;
  }
  return true;
}

function isSnapshotOrNull(value: unknown): boolean {
  if (value === null) return true;
  if (!isPlainObject(value)) return false;
  if (!hasKeysExactly(value, SNAPSHOT_KEYS)) {
    if (!hasKeysExactly(value, SNAPSHOT_KEYS_WITH_GPUS) || !isIntegerList(value.gpus, 0, 1000)) return false;
  }
  const active = value.active_tasks;
  return (
    typeof active === 'number' &&
    Number.isSafeInteger(active) &&
    active >= 0 &&
    isSortedVector(value.reserved) &&
    isSortedVector(value.usage)
  );
}

/**
 * True when `value` satisfies transactionSchema AND every object in it lists its keys in RFC 8785
 * order, so that JSON.stringify(value) is its canonical text. False does not mean invalid: the caller
 * then asks zod and `canonicalize`.
 */
export function isCanonicalOrderTransaction(value: unknown): value is Transaction {
  if (!isPlainObject(value)) return false;
  if (!hasTransactionKeys(value)) return false;
  const v = value;
  return (
    (v.devices === undefined || isIntegerList(v.devices, 0, 63)) &&
    (v.format_version === undefined || v.format_version === TRANSACTION_FORMAT_VERSION) &&
    isOutcome(v.outcome) &&
    typeof v.transaction_id === 'string' &&
    TRANSACTION_ID.test(v.transaction_id) &&
    typeof v.status === 'string' &&
    STATUSES.has(v.status) &&
    isText(v.algorithm, 1, 128) &&
    isText(v.reason, 0, 4096) &&
    (v.vm_id === null || isText(v.vm_id, 1, 256)) &&
    (v.score === null || isFiniteNumber(v.score)) &&
    isSortedVector(v.task_requirements) &&
    isSnapshotOrNull(v.vm_state_before) &&
    isSnapshotOrNull(v.vm_state_after) &&
    isLedgerTimestamp(v.timestamp) &&
    // The task id format belongs to the task schema: asked directly, so this cannot drift from it.
    taskIdSchema.safeParse(v.task_id).success
  );
}

/**
 * RFC 9162 leaf hash SHA-256(0x00 || UTF-8(text)) of a canonical text, hashed from the string itself:
 * Node encodes it as UTF-8 inside the one-shot hash, so no intermediate byte array is built. The text
 * must be valid Unicode (a lone surrogate would be encoded as U+FFFD); every path to here checked that.
 */
export function leafHashOfText(text: string): Uint8Array {
  return hash('sha256', `\u0000${text}`, 'buffer');
}

const json = JSON.stringify;

// Written out by hand rather than as a key-sorted object for JSON.stringify: JavaScript would move
// integer-like dimension names ("10", "9") ahead of the others, which RFC 8785 sorts as strings.
function vectorText(vector: Readonly<Record<string, number>>): string {
  const keys = Object.keys(vector).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    out += `${i === 0 ? '' : ','}${json(key)}:${json(vector[key])}`;
  }
  return `${out}}`;
}

function outcomeText(o: TaskOutcome): string {
  return `{"duration_ms":${json(o.duration_ms)},"exit_code":${json(o.exit_code)},"output_sha256":${json(o.output_sha256)},"signal":${json(o.signal)}}`;
}

function snapshotText(snapshot: Transaction['vm_state_before']): string {
  if (snapshot === null) return 'null';
  const gpus = snapshot.gpus === undefined ? '' : `"gpus":${JSON.stringify(snapshot.gpus)},`;
  return `{"active_tasks":${json(snapshot.active_tasks)},${gpus}"reserved":${vectorText(snapshot.reserved)},"usage":${vectorText(snapshot.usage)}}`;
}

/**
 * The RFC 8785 text of a transaction transactionSchema has accepted (or the engine built to it), in any
 * key order: the same string `canonicalize` returns, about as fast as JSON.stringify. Exact because
 * `canonicalize` is JSON.stringify of each string and number with every object's keys sorted by
 * UTF-16 code units (Array.prototype.sort's default order), which is what this writes out for the
 * transaction's fixed shape. It checks nothing: lone surrogates, non-finite numbers and extra keys
 * must have been refused before (transactionSchema does), or the text is not canonical.
 */
export function canonicalTextOfValidated(tx: Transaction): string {
  return (
    `{"algorithm":${json(tx.algorithm)},${tx.devices === undefined ? '' : `"devices":${JSON.stringify(tx.devices)},`}` +
    `${tx.format_version === undefined ? '' : `"format_version":${json(tx.format_version)},`}` +
    `${tx.outcome === undefined ? '' : `"outcome":${outcomeText(tx.outcome)},`}` +
    `"reason":${json(tx.reason)},"score":${json(tx.score)},` +
    `"status":${json(tx.status)},"task_id":${json(tx.task_id)},` +
    `"task_requirements":${vectorText(tx.task_requirements)},"timestamp":${json(tx.timestamp)},` +
    `"transaction_id":${json(tx.transaction_id)},"vm_id":${json(tx.vm_id)},` +
    `"vm_state_after":${snapshotText(tx.vm_state_after)},"vm_state_before":${snapshotText(tx.vm_state_before)}}`
  );
}

/**
 * A block's merkle_root over transactions transactionSchema has accepted, hashing the text
 * canonicalTextOfValidated writes (no canonicalize package): what buildBlocks and the fast verifier
 * use. transactionsRootOfValidated is the reference the tests hold it to.
 */
export function merkleRootOfValidated(transactions: readonly Transaction[]): string {
  const range = new CompactRange();
  for (const tx of transactions) range.append(leafHashOfText(canonicalTextOfValidated(tx)));
  return toHex(range.root());
}
