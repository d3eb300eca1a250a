import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import type { CommitPlan } from '../../lib/adapters/dynamodb/commit-plan';
import { conflictFrom } from '../../lib/adapters/dynamodb/conflicts';
import { dynamoDbClient } from './helpers/clients';
import { dynamoDbStoreSuite } from './helpers/dynamodb-store-suite';

// The store's suites on MiniStack; dynamodb-store-moto.test.ts runs the same on moto.
dynamoDbStoreSuite('dynamodb', dynamoDbClient);

describe('cancellation reasons to port conflicts', () => {
  // MiniStack serialises transactions under one lock, so TransactionConflict (two transactions on the
  // same item at once, routine on AWS for HEAD) never happens there; the mapping is checked directly.
  const plan: CommitPlan = {
    items: [],
    kinds: ['block', 'transaction', 'head', 'reservation', 'task'],
    keys: ['BLOCK#000000000002', 'TX#x', 'HEAD', 'VM#vm-1', 'TASK#t-1'],
    head: { height: 2, hash: 'b'.repeat(64) },
  };
  const expected = { height: 1, hash: 'a'.repeat(64) };
  const cancelled = (codes: string[]) =>
    new TransactionCanceledException({
      message: 'Transaction cancelled',
      $metadata: {},
      CancellationReasons: codes.map((Code) => ({ Code })),
    });
  const C = 'ConditionalCheckFailed';
  const N = 'None';

  it.each([
    ['the block height is taken', [C, N, N, N, N], 'head-moved'],
    ['the head moved', [N, N, C, N, N], 'head-moved'],
    ['a concurrent transaction touched an item', [N, N, 'TransactionConflict', N, N], 'head-moved'],
    ['head moved and the VM is full: the head wins', [N, N, C, C, N], 'head-moved'],
    ['the VM is full', [N, N, N, C, N], 'over-capacity'],
    ['the VM is full and the task exists: the task wins', [N, N, N, C, C], 'task-conflict'],
    ['the task is not in the expected state', [N, N, N, N, C], 'task-conflict'],
    ['the transaction id exists', [N, C, N, N, N], 'task-conflict'],
  ])('%s -> %s', (_, codes, conflict) => {
    const result = conflictFrom(cancelled(codes as string[]), plan, expected);
    expect(result).toMatchObject({ ok: false, conflict });
    // The detail names the first failed item and why it failed.
    const first = (codes as string[]).findIndex((c) => c !== N);
    if (!result.ok) expect(result.detail).toContain(`${plan.keys[first]}: ${codes[first]}`);
  });

  it.each([
    ['throttled', [N, N, 'ThrottlingError', N, N]],
    ['an item too large', [N, N, N, N, 'ValidationError']],
    ['no reasons at all', []],
  ])('rethrows a cancellation that is not a conflict: %s', (_, codes) => {
    const error = cancelled(codes as string[]);
    expect(() => conflictFrom(error, plan, expected)).toThrow(error);
  });
});
