import { describe, expect, it } from 'vitest';
import { maxTasksPerCommit, worstCaseCommitItems } from '../../../functions/shared/commit-limit';
import { enqueueEnvSchema, readEnv, schedulerEnvSchema } from '../../../functions/shared/config';
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
    const queue = { QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/tasks' };
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
    // blockSize 5: 30 tasks -> 6 blocks + 90 items + head = 97; 31 -> 7 + 93 + 1 = 101.
    [5, 30],
    // blockSize 1: 24 tasks -> 24 + 72 + 1 = 97; 25 -> 25 + 75 + 1 = 101.
    [1, 24],
    // blockSize 100: 33 tasks -> 1 + 99 + 1 = 101 is too many; 32 -> 1 + 96 + 1 = 98.
    [100, 32],
  ])('blockSize %i allows %i tasks per DynamoDB transaction', (blockSize, expected) => {
    expect(maxTasksPerCommit(blockSize)).toBe(expected);
    expect(worstCaseCommitItems(expected, blockSize)).toBeLessThanOrEqual(100);
    expect(worstCaseCommitItems(expected + 1, blockSize)).toBeGreaterThan(100);
  });
});
