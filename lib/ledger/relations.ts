import type { FieldIssue } from '../errors';
import type { Transaction } from './types';

/**
 * The relations between a transaction's fields that its schema alone does not state
 * (docs/ledger-format.md section 2.2). The engine writes nothing else; a verifier that accepted other
 * combinations would accept, say, a rejection that claims to hold resources on a VM.
 *
 * - `rejected`: `vm_id`, `score`, `vm_state_before` and `vm_state_after` are all null;
 * - `assigned`: `vm_id`, `vm_state_before` and `vm_state_after` are not null;
 * - `completed` / `expired`: `vm_id` is not null, `score` is null, and `vm_state_before` and
 *   `vm_state_after` are both null or both not null.
 *
 * Returns the first relation that does not hold (field and message), or null.
 */
export function relationIssue(tx: Transaction): FieldIssue | null {
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
