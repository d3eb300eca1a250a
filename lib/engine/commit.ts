import type { ChainHead } from '../ledger/types';
import { fromMicro, toMicro } from '../model/amount';
import type { ResourceVector } from '../model/resources';
import type {
  AppendResult,
  Commit,
  DeviceChange,
  Reservation,
  ReservationChange,
} from '../ports/ledger-store';
import { MAX_DEVICES_PER_VM } from '../scheduling/devices';

/**
 * Store-independent rules of the LedgerStore port (lib/ports/ledger-store.ts), shared by every
 * adapter so that they agree on what a conflict is and what a malformed commit is.
 */

/** A commit that no correct writer produces. Thrown, never reported as a conflict. */
export class MalformedCommitError extends Error {
  override name = 'MalformedCommitError';
}

/**
 * The compare-and-set every store applies first: the append goes ahead only if the stored head is
 * still the one the writer read. Returns the conflict to report, or null when the head matches.
 */
export function headMoved(expected: ChainHead, stored: ChainHead): AppendResult | null {
  if (stored.height === expected.height && stored.hash === expected.hash) return null;
  return {
    ok: false,
    conflict: 'head-moved',
    detail: `expected head ${expected.height}/${expected.hash}, found ${stored.height}/${stored.hash}`,
  };
}

/**
 * Checks the commit's shape against the head it claims to extend: at least one block, consecutive
 * heights from expected.height + 1, each linked to the previous hash, unique transaction and task ids.
 * Returns the transaction ids with their positions so stores index them without a second pass.
 */
export function checkCommitShape(
  expected: ChainHead,
  commit: Commit,
): { transactionId: string; height: number; index: number }[] {
  if (commit.blocks.length === 0) throw new MalformedCommitError('a commit needs at least one block');
  const positions: { transactionId: string; height: number; index: number }[] = [];
  const seen = new Set<string>();
  let previous = expected;
  for (const block of commit.blocks) {
    if (block.height !== previous.height + 1) {
      throw new MalformedCommitError(`block height ${block.height} does not follow ${previous.height}`);
    }
    if (block.previous_hash !== previous.hash) {
      throw new MalformedCommitError(`block ${block.height} previous_hash does not link to ${previous.hash}`);
    }
    if (block.transaction_count !== block.transactions.length) {
      throw new MalformedCommitError(
        `block ${block.height} transaction_count ${block.transaction_count}, has ${block.transactions.length}`,
      );
    }
    block.transactions.forEach((tx, index) => {
      if (seen.has(tx.transaction_id)) {
        throw new MalformedCommitError(`transaction ${tx.transaction_id} appears twice in the commit`);
      }
      seen.add(tx.transaction_id);
      positions.push({ transactionId: tx.transaction_id, height: block.height, index });
    });
    previous = { height: block.height, hash: block.block_hash };
  }
  const taskIds = new Set<string>();
  for (const change of commit.tasks) {
    if (taskIds.has(change.record.task_id)) {
      throw new MalformedCommitError(`task ${change.record.task_id} changes twice in one commit`);
    }
    taskIds.add(change.record.task_id);
  }
  return positions;
}

/** The head a successful append of this commit leaves behind. */
export function headAfter(commit: Commit): ChainHead {
  const last = commit.blocks[commit.blocks.length - 1]!;
  return { height: last.height, hash: last.block_hash };
}

/**
 * Several changes to one VM in a commit are summed first: a DynamoDB transaction can touch an item
 * once, so every store applies the net change per VM and checks it once. The last capacity wins.
 */
export function netReservationChanges(changes: readonly ReservationChange[]): ReservationChange[] {
  const byVm = new Map<string, ReservationChange>();
  for (const change of changes) {
    const current = byVm.get(change.vm_id);
    if (!current) {
      byVm.set(change.vm_id, {
        vm_id: change.vm_id,
        delta: { ...change.delta },
        active_delta: change.active_delta,
        capacity: { ...change.capacity },
        ...(change.devices === undefined ? {} : { devices: netDeviceChanges([], change.devices) }),
      });
      continue;
    }
    // Summed in micro-units (lib/model/amount.ts): a float sum would drift (33.3 + 33.4 - 66.7 != 0).
    for (const [d, v] of Object.entries(change.delta)) {
      current.delta[d] = fromMicro(toMicro(current.delta[d] ?? 0) + toMicro(v));
    }
    current.active_delta += change.active_delta;
    current.capacity = { ...change.capacity };
    if (change.devices !== undefined)
      current.devices = netDeviceChanges(current.devices ?? [], change.devices);
  }
  return [...byVm.values()];
}

/** Device changes summed per index (in micro-units), ascending by index; the last capacity wins. */
function netDeviceChanges(base: readonly DeviceChange[], more: readonly DeviceChange[]): DeviceChange[] {
  const byIndex = new Map(base.map((c) => [c.index, { ...c }]));
  for (const c of more) {
    if (!Number.isInteger(c.index) || c.index < 0 || c.index >= MAX_DEVICES_PER_VM) {
      throw new MalformedCommitError(
        `GPU device index ${c.index} is not an integer from 0 to ${MAX_DEVICES_PER_VM - 1}`,
      );
    }
    const current = byIndex.get(c.index);
    if (current === undefined) byIndex.set(c.index, { ...c });
    else {
      current.delta = fromMicro(toMicro(current.delta) + toMicro(c.delta));
      current.capacity = c.capacity;
    }
  }
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}

export type ReservationOutcome = { ok: true; reservation: Reservation } | { ok: false; detail: string };

/**
 * Applies a net change to a VM's current reservation (undefined: none yet), in exact integer
 * micro-units (lib/model/amount.ts), so the reservation is always the exact decimal sum of its
 * active tasks' requirements and a task that exactly fills a VM fits. A stored value off the
 * micro-unit grid (drift written before amounts were exact) is rounded onto it here.
 * Only dimensions that grow are checked against capacity: releasing must always succeed, even on a
 * VM whose capacity shrank below what it already holds. A count or amount going below zero means
 * the ledger's books are wrong, so that throws instead of being reported as a conflict.
 */
export function applyReservationChange(
  current: Reservation | undefined,
  change: ReservationChange,
): ReservationOutcome {
  const reserved: ResourceVector = {};
  for (const [d, v] of Object.entries(current?.reserved ?? {})) reserved[d] = fromMicro(toMicro(v));
  for (const [d, delta] of Object.entries(change.delta)) {
    const before = toMicro(reserved[d] ?? 0);
    const after = before + toMicro(delta);
    const capacity = change.capacity[d] ?? 0;
    if (delta > 0 && after > toMicro(capacity)) {
      return {
        ok: false,
        detail: `vm ${change.vm_id} ${d}: reserved ${fromMicro(before)} + ${delta} exceeds capacity ${capacity}`,
      };
    }
    if (after < 0) {
      throw new MalformedCommitError(
        `vm ${change.vm_id} ${d}: reservation would fall to ${fromMicro(after)}`,
      );
    }
    reserved[d] = fromMicro(after);
  }
  const activeTasks = (current?.active_tasks ?? 0) + change.active_delta;
  if (activeTasks < 0) {
    throw new MalformedCommitError(`vm ${change.vm_id}: active tasks would fall to ${activeTasks}`);
  }
  let gpus = current?.gpus?.map((v) => fromMicro(toMicro(v)));
  if (change.devices !== undefined && change.devices.length > 0) {
    const outcome = applyDeviceChanges(change.vm_id, gpus ?? [], change.devices);
    if (!outcome.ok) return outcome;
    gpus = outcome.gpus;
  }
  return {
    ok: true,
    reservation: {
      vm_id: change.vm_id,
      reserved,
      active_tasks: activeTasks,
      capacity: { ...change.capacity },
      ...(gpus === undefined ? {} : { gpus }),
    },
  };
}

/**
 * The per-device rule, like the per-dimension one: a device that grows must stay within its own
 * capacity (so a whole-device task gets only a device nobody holds, and no device goes over 1000
 * milli-GPU whichever batch or writer placed the tasks on it); a release below zero throws.
 * Devices never named stay 0 (the array grows to the highest index named).
 */
function applyDeviceChanges(
  vmId: string,
  current: readonly number[],
  changes: readonly DeviceChange[],
): { ok: true; gpus: number[] } | { ok: false; detail: string } {
  const gpus = [...current];
  for (const { index, delta, capacity } of changes) {
    while (gpus.length <= index) gpus.push(0);
    const before = toMicro(gpus[index]!);
    const after = before + toMicro(delta);
    if (delta > 0 && after > toMicro(capacity)) {
      return {
        ok: false,
        detail: `vm ${vmId} GPU device ${index}: reserved ${fromMicro(before)} + ${delta} exceeds capacity ${capacity}`,
      };
    }
    if (after < 0) {
      throw new MalformedCommitError(
        `vm ${vmId} GPU device ${index}: reservation would fall to ${fromMicro(after)}`,
      );
    }
    gpus[index] = fromMicro(after);
  }
  return { ok: true, gpus };
}
