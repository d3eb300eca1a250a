import type { FieldIssue } from '../errors';
import type { Transaction } from './types';

/**
 * The relations between a transaction's fields that its schema alone does not state
 * (docs/ledger-format.md section 2.2). The engine writes nothing else; a verifier that accepted other
 * combinations would accept, say, a rejection that claims to hold resources on a VM.
 *
 * - `rejected`: `vm_id`, `score`, `vm_state_before` and `vm_state_after` are all null;
 * - `assigned`: `vm_id`, `vm_state_before` and `vm_state_after` are not null;
 * - `completed` / `failed` / `expired`: `vm_id` is not null, `score` is null, and `vm_state_before` and
 *   `vm_state_after` are both null or both not null.
 *
 * GPU devices (section 2.4): `gpus` is in vm_state_before exactly when it is in vm_state_after, with
 * the same length; `devices` on an assignment or its closing (never a rejection), ascending, each
 * below that length, and then the task's `gpu` requirement is spread evenly over them and added to
 * (assigned) or taken from (completed, expired) exactly those devices, none ending over 1000 or
 * below 0; without `devices` the devices are unchanged. A closing without snapshots may carry
 * `devices` alone (its VM left the fleet).
 *
 * Returns the first relation that does not hold (field and message), or null.
 */
export function relationIssue(tx: Transaction): FieldIssue | null {
  return statusIssue(tx) ?? outcomeIssue(tx) ?? deviceIssue(tx);
}

/**
 * Outcomes (section 2.5): only a format-3 transaction may be `failed` or carry `outcome`; only a
 * `completed` or `failed` closing carries one, `failed` always does; exactly one of exit_code and
 * signal is set; `completed` means exit code 0, `failed` a non-zero exit code or a signal.
 */
function outcomeIssue(tx: Transaction): FieldIssue | null {
  const outcome = tx.outcome;
  if (tx.format_version === undefined) {
    if (tx.status === 'failed') return { field: 'status', message: 'failed needs format_version 3' };
    if (outcome !== undefined) return { field: 'outcome', message: 'needs format_version 3' };
    return null;
  }
  if (outcome === undefined) {
    return tx.status === 'failed'
      ? { field: 'outcome', message: 'a failed closing must have an outcome' }
      : null;
  }
  if (tx.status !== 'completed' && tx.status !== 'failed') {
    return { field: 'outcome', message: 'only a completed or failed closing has an outcome' };
  }
  if ((outcome.exit_code === null) === (outcome.signal === null)) {
    return { field: 'outcome.signal', message: 'exactly one of exit_code and signal must be null' };
  }
  if (tx.status === 'completed' && outcome.exit_code !== 0) {
    return { field: 'outcome.exit_code', message: 'must be 0 in a completed closing (else it failed)' };
  }
  if (tx.status === 'failed' && outcome.exit_code === 0) {
    return { field: 'outcome.exit_code', message: 'must not be 0 in a failed closing' };
  }
  return null;
}

function deviceIssue(tx: Transaction): FieldIssue | null {
  const before = tx.vm_state_before?.gpus;
  const after = tx.vm_state_after?.gpus;
  if (
    (before === undefined) !== (after === undefined) ||
    (before && after && before.length !== after.length)
  ) {
    return {
      field: 'vm_state_after.gpus',
      message: 'must be present exactly when vm_state_before.gpus is, with as many devices',
    };
  }
  const devices = tx.devices;
  if (devices === undefined) {
    if (before && after && before.some((v, k) => v !== after[k])) {
      return { field: 'vm_state_after.gpus', message: 'must equal vm_state_before.gpus without devices' };
    }
    return null;
  }
  if (tx.status === 'rejected') {
    return { field: 'devices', message: 'only an assignment or its closing has devices' };
  }
  const snapshots = tx.vm_state_before !== null;
  if (snapshots && (before === undefined || after === undefined)) {
    return { field: 'vm_state_before.gpus', message: 'must be present when devices is' };
  }
  for (let k = 0; k < devices.length; k++) {
    if ((before && devices[k]! >= before.length) || (k > 0 && devices[k]! <= devices[k - 1]!)) {
      const bound = before ? ` and below ${before.length}` : '';
      return { field: `devices.${k}`, message: `must be ascending, distinct${bound}` };
    }
  }
  const milli = (tx.task_requirements.gpu ?? 0) / devices.length;
  if (!(Number.isInteger(milli) && milli > 0 && milli <= 1000 && (devices.length === 1 || milli === 1000))) {
    return {
      field: 'task_requirements.gpu',
      message: 'must be a share of one device (at most 1000) or 1000 per device',
    };
  }
  if (!before || !after) return null;
  // An assignment adds the task's share to its devices, a closing takes it back.
  const sign = tx.status === 'assigned' ? 1 : -1;
  for (let d = 0; d < before.length; d++) {
    const expected = devices.includes(d) ? before[d]! + sign * milli : before[d]!;
    if (after[d] !== expected || expected > 1000 || expected < 0) {
      const change = sign > 0 ? 'plus' : 'minus';
      return {
        field: `vm_state_after.gpus.${d}`,
        message: `must be ${expected} (vm_state_before.gpus.${d} ${change} the task's share on its devices), from 0 to 1000`,
      };
    }
  }
  return null;
}

function statusIssue(tx: Transaction): FieldIssue | null {
  switch (tx.status) {
    case 'rejected':
      for (const field of ['vm_id', 'score', 'vm_state_before', 'vm_state_after'] as const) {
        if (tx[field] !== null) return { field, message: 'must be null in a rejected decision' };
      }
      return null;
    case 'assigned':
      for (const field of ['vm_id', 'vm_state_before', 'vm_state_after'] as const) {
        if (tx[field] === null) return { field, message: 'must not be null in an assigned decision' };
      }
      return null;
    default:
      if (tx.vm_id === null) return { field: 'vm_id', message: `must not be null in a ${tx.status} closing` };
      if (tx.score !== null) return { field: 'score', message: `must be null in a ${tx.status} closing` };
      if ((tx.vm_state_before === null) !== (tx.vm_state_after === null)) {
        return {
          field: 'vm_state_after',
          message: 'must be null exactly when vm_state_before is null in a closing',
        };
      }
      return null;
  }
}
