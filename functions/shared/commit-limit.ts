import { MAX_LEDGER_ITEMS } from '../../lib/adapters/dynamodb/commit-plan';

/**
 * Items a commit of `tasks` new decisions may write in the worst case (every task on its own VM),
 * counted as lib/adapters/dynamodb/commit-plan.ts counts them: a block per `blockSize` transactions,
 * then per task a transaction id, a task record and a VM reservation, and the head (the Merkle tiles
 * have their own MERKLE_ITEMS_PER_COMMIT outside MAX_LEDGER_ITEMS).
 */
export function worstCaseCommitItems(tasks: number, blockSize: number): number {
  return Math.ceil(tasks / blockSize) + 3 * tasks + 1;
}

/** The most tasks one DynamoDB transaction can commit; the engine splits larger batches. */
export function maxTasksPerCommit(blockSize: number, itemLimit = MAX_LEDGER_ITEMS): number {
  let n = 0;
  while (worstCaseCommitItems(n + 1, blockSize) <= itemLimit) n++;
  return n;
}
