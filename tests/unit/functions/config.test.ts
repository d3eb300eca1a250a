import { describe, expect, it } from 'vitest';
import { enqueueEnvSchema, readEnv, schedulerEnvSchema } from '../../../functions/shared/config';
import { maxTasksPerCommit, worstCaseCommitItems } from '../../../lib/adapters/dynamodb/commit-plan';
import { ValidationError } from '../../../lib/errors';

const base = { TABLE_NAME: 'ledger', ALGORITHM: 'best-fit', VM_TAG_KEY: 'bcs:pool', VM_TAG_VALUE: 'workers' };

describe('function configuration', () => {
  it('applies the defaults and splits the dimensions', () => {
    const env = readEnv(schedulerEnvSchema, { ...base, DIMENSIONS: 'cpu,mem,gpu', BLOCK_SIZE: '7' });
    expect(env).toMatchObject({ DIMENSIONS: ['cpu', 'mem', 'gpu'], BLOCK_SIZE: 7, ALPHA: 0.7, BETA: 0.3 });
  });

  it.each([
    [{ TABLE_NAME: undefined }, 'TABLE_NAME'],
    [{ BLOCK_SIZE: '0' }, 'BLOCK_SIZE'],
    [{ TAU: '0' }, 'TAU'],
    [{ DIMENSIONS: 'cpu,Mem' }, 'DIMENSIONS.1'],
    [{ FLEET_CACHE_TTL_SECONDS: 'soon' }, 'FLEET_CACHE_TTL_SECONDS'],
    [{ MAX_WAIT_SECONDS: '-1' }, 'MAX_WAIT_SECONDS'],
  ])('refuses %o naming %s', (override, field) => {
    let error: unknown;
    try {
      readEnv(schedulerEnvSchema, { ...base, ...override });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.field)).toContain(field);
  });
});

describe('waiting and packing configuration', () => {
  it('waits 900 s for capacity and packs 25 tasks per message unless told otherwise', () => {
    expect(readEnv(schedulerEnvSchema, base).MAX_WAIT_SECONDS).toBe(900);
    expect(readEnv(schedulerEnvSchema, { ...base, MAX_WAIT_SECONDS: '0' }).MAX_WAIT_SECONDS).toBe(0);
    const queue = {
      QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/tasks',
      TABLE_NAME: 'ledger',
    };
    expect(readEnv(enqueueEnvSchema, queue).TASKS_PER_MESSAGE).toBe(25);
    expect(readEnv(enqueueEnvSchema, { ...queue, TASKS_PER_MESSAGE: '1' }).TASKS_PER_MESSAGE).toBe(1);
    for (const bad of ['0', '101', '2.5']) {
      expect(() => readEnv(enqueueEnvSchema, { ...queue, TASKS_PER_MESSAGE: bad })).toThrow(
        /TASKS_PER_MESSAGE/,
      );
    }
  });
});

describe('maxTasksPerCommit', () => {
  it.each([
    // 91 items: the 100 of a DynamoDB transaction less 8 kept for Merkle tiles and 1 for a VM directory page.
    // blockSize 5: 28 tasks -> 6 blocks + 84 items + head = 91; 29 -> 6 + 87 + 1 = 94.
    [5, 28],
    // blockSize 1: 22 tasks -> 22 + 66 + 1 = 89; 23 -> 23 + 69 + 1 = 93.
    [1, 22],
    // blockSize 100: 30 tasks -> 1 + 90 + 1 = 92 is too many; 29 -> 1 + 87 + 1 = 89.
    [100, 29],
  ])('blockSize %i allows %i tasks per DynamoDB transaction', (blockSize, expected) => {
    expect(maxTasksPerCommit(blockSize)).toBe(expected);
    expect(worstCaseCommitItems(expected, blockSize)).toBeLessThanOrEqual(91);
    expect(worstCaseCommitItems(expected + 1, blockSize)).toBeGreaterThan(91);
  });
});
