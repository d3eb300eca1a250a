/**
 * The ledger table's layout: ONE table, partition key `pk` (String), no sort key, on-demand.
 * Every item kind is told apart by the prefix of its key. The CDK stack creates the table from these
 * names and scopes IAM with `dynamodb:LeadingKeys` on the prefixes, so they are plain constants.
 */

/** Partition key attribute name (String). */
export const PARTITION_KEY = 'pk';

/** The chain head: `{ pk: 'HEAD', height, hash }`. Every append is a compare-and-set on it. */
export const HEAD_KEY = 'HEAD';

/** `BLOCK#<height zero-padded to 12>`: header fields, block_hash, transactions (JSON text). */
export const BLOCK_PREFIX = 'BLOCK#';
/** `TX#<transaction_id>`: `{ height, index }`; written once, so a transaction id exists at most once. */
export const TRANSACTION_PREFIX = 'TX#';
/** `TASK#<task_id>`: the TaskRecord of lib/ports/ledger-store.ts. */
export const TASK_PREFIX = 'TASK#';
/** `VM#<vm_id>`: `reserved_<dim>` and `capacity_<dim>` per dimension, `device_<index>` per GPU device, `active_tasks`. */
export const VM_PREFIX = 'VM#';
/**
 * `VMDIR#<page, 6 digits>`: one page of the VM directory (vm-directory.ts, docs/ledger-format.md 7.1):
 * `vm_ids`, a String Set of VM ids that have a `VM#` item, ADDed to in the append that creates the VM
 * item, so a summary lists every VM by key instead of scanning the table.
 */
export const VM_DIRECTORY_PREFIX = 'VMDIR#';
/**
 * `TILE#<level>#<index zero-padded to 12>`: one tile of the block-hash tree (lib/ledger/tiles.ts,
 * docs/ledger-format.md "Stored Merkle tiles"): `hashes`, a List of 32-byte Binary values in order,
 * extended at its end by each append (list_append, conditioned on its current size); `level`, `index`.
 */
export const TILE_PREFIX = 'TILE#';
/**
 * `ACCEPTED#<task_id>`: the intake's acceptance record (lib/ports/task-acceptances.ts):
 * `task_id`, `body_sha256`, `accepted_at`, `queued`. Written by the enqueue function only.
 */
export const ACCEPTED_PREFIX = 'ACCEPTED#';
/**
 * `AUDIT#<job_id>` and `AUDIT#<job_id>#RANGE#<from>`: full re-audits and their range results
 * (lib/adapters/dynamodb/audit-job-items.ts). Not chain items: written by the verify, range and merge
 * functions only.
 */
export const AUDIT_PREFIX = 'AUDIT#';
/** `DIGEST#...`: reserved for published digests. */
export const DIGEST_PREFIX = 'DIGEST#';

/** Every prefix the scheduler writes, for IAM LeadingKeys conditions (`HEAD` is a whole key). */
export const WRITER_KEYS = [
  HEAD_KEY,
  BLOCK_PREFIX,
  TRANSACTION_PREFIX,
  TASK_PREFIX,
  VM_PREFIX,
  TILE_PREFIX,
  VM_DIRECTORY_PREFIX,
] as const;

/** Heights are zero-padded so that keys sort like numbers in listings and exports. */
export const HEIGHT_DIGITS = 12;

/**
 * Optional sparse global secondary index for `listExpiredLeases`. Only task items in status
 * `assigned` carry LEASE_INDEX_PARTITION_KEY, so the index holds exactly the open leases, sorted by
 * expiry. Without it the store falls back to a filtered Scan of the table.
 */
export const LEASE_INDEX_NAME = 'open-leases';
/** Partition key of the lease index (String); its single value is LEASE_PARTITION. */
export const LEASE_INDEX_PARTITION_KEY = 'lease_pk';
export const LEASE_PARTITION = 'ASSIGNED';
/** Sort key of the lease index (Number, epoch ms). */
export const LEASE_INDEX_SORT_KEY = 'lease_expires_at';

/** Attribute-name prefixes of the per-dimension numbers on a VM item. */
export const RESERVED_ATTRIBUTE_PREFIX = 'reserved_';
export const CAPACITY_ATTRIBUTE_PREFIX = 'capacity_';
/**
 * `device_<index>` on a VM item: milli-GPU reserved on that GPU device (Reservation.gpus). Dimension
 * attributes all start with one of the two prefixes above, so no dimension name can collide with it.
 */
export const DEVICE_ATTRIBUTE_PREFIX = 'device_';

export function blockKey(height: number): string {
  return `${BLOCK_PREFIX}${String(height).padStart(HEIGHT_DIGITS, '0')}`;
}

export function transactionKey(transactionId: string): string {
  return `${TRANSACTION_PREFIX}${transactionId}`;
}

export function taskKey(taskId: string): string {
  return `${TASK_PREFIX}${taskId}`;
}

export function vmKey(vmId: string): string {
  return `${VM_PREFIX}${vmId}`;
}

export function vmDirectoryKey(page: number): string {
  return `${VM_DIRECTORY_PREFIX}${String(page).padStart(6, '0')}`;
}

export function acceptedKey(taskId: string): string {
  return `${ACCEPTED_PREFIX}${taskId}`;
}

export function tileKey(level: number, index: number): string {
  return `${TILE_PREFIX}${level}#${String(index).padStart(HEIGHT_DIGITS, '0')}`;
}
