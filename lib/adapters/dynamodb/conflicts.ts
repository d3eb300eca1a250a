import type { AttributeValue, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { ChainHead } from '../../ledger/types';
import type { AppendResult } from '../../ports/ledger-store';
import type { CommitPlan, PlannedItemKind } from './commit-plan';
import { headFromItem } from './items';

/**
 * Cancellation reasons come in the order of the transaction's items. A failed block or head condition
 * means another writer took the height; a concurrent transaction on the same items (TransactionConflict)
 * is reported the same way, since re-reading the head and retrying is the right answer to both.
 * Precedence follows the order in which the other stores check: head, then tasks, then capacity.
 */
export function conflictFrom(
  error: TransactionCanceledException,
  plan: CommitPlan,
  expected: ChainHead,
): AppendResult {
  const failed: { kind: PlannedItemKind; key: string; code: string }[] = [];
  (error.CancellationReasons ?? []).forEach((reason, i) => {
    const code = reason.Code ?? 'None';
    if (code !== 'None') failed.push({ kind: plan.kinds[i]!, key: plan.keys[i]!, code });
  });
  const describe = (f: { key: string; code: string }) => `${f.key}: ${f.code}`;
  const unexpected = failed.filter(
    (f) => f.code !== 'ConditionalCheckFailed' && f.code !== 'TransactionConflict',
  );
  if (unexpected.length > 0 || failed.length === 0) throw error;

  const detail = failed.map(describe).join('; ');
  if (failed.some((f) => f.code === 'TransactionConflict' || f.kind === 'head' || f.kind === 'block')) {
    const wanted = `head is no longer height ${expected.height} (${expected.hash})`;
    const stored = storedHead(error, plan);
    return {
      ok: false,
      conflict: 'head-moved',
      detail: `${wanted}; ${detail}`,
      ...(stored ? { head: stored } : {}),
    };
  }
  // HEAD held, so the tiles were written for this very head: a tile that does not hold the hashes
  // the tree head implies means the table no longer agrees with its chain. Never a retryable conflict.
  const tiles = failed.filter((f) => f.kind === 'tile');
  if (tiles.length > 0) {
    throw new Error(`Merkle tiles disagree with the chain head (${tiles.map(describe).join('; ')})`, {
      cause: error,
    });
  }
  // A task already recorded or closed makes its reservation change moot (a second close would also
  // fail the release's floor), so task conflicts are reported before capacity, as the other stores do.
  if (failed.some((f) => f.kind === 'task' || f.kind === 'transaction')) {
    return { ok: false, conflict: 'task-conflict', detail };
  }
  return { ok: false, conflict: 'over-capacity', detail };
}

/**
 * The HEAD item as the failed condition found it (the plan asks for it with
 * ReturnValuesOnConditionCheckFailure), so the writer can retry without a readHead. Absent when the
 * head's own condition held (another item failed) or the transaction was cancelled by a conflict.
 * The item comes back in wire format: the document client does not translate errors.
 */
function storedHead(error: TransactionCanceledException, plan: CommitPlan): ChainHead | undefined {
  const index = plan.kinds.indexOf('head');
  const reason = error.CancellationReasons?.[index];
  if (reason?.Code !== 'ConditionalCheckFailed' || !reason.Item) return undefined;
  const item: Record<string, AttributeValue> = reason.Item;
  return headFromItem({ height: Number(item.height?.N), hash: item.hash?.S });
}
