import { afterAll, describe, expect, it } from 'vitest';
import { schedulerHandler } from '../../functions/handlers/scheduler';
import { maxTasksPerCommit } from '../../lib/adapters/dynamodb/commit-plan';
import { DynamoDbLedgerStore } from '../../lib/adapters/dynamodb/dynamodb-ledger-store';
import { SqsTaskSender } from '../../lib/adapters/sqs/task-sender';
import { SchedulingEngine } from '../../lib/engine/engine';
import { verifyChain } from '../../lib/ledger/verify';
import { systemClock } from '../../lib/ports/clock';
import { lambdaContext, sqsEvent, sqsRecord } from '../unit/functions/helpers/events';
import {
  DIMENSIONS,
  RecordingLogger,
  RecordingMetrics,
  StaticFleet,
  task,
  vm,
} from '../unit/functions/helpers/fixtures';
import { dynamoDbClient } from './helpers/clients';
import { createLedgerTable } from './helpers/ledger-table';

const BLOCK_SIZE = 10;
const RECORDS = 10; // what one SQS receive hands the function, on AWS and on MiniStack

/**
 * The scheduler function in-process on a DynamoDB table of the emulator, fed what the enqueue
 * function's sender packs: one SQS batch of 10 records now carries 10 × 25 tasks. The DynamoDB
 * requests are counted on the client, so the figure is the function's own.
 */
describe('scheduler function on DynamoDB with multi-task records', () => {
  const client = dynamoDbClient();
  const tables: { drop(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const t of tables) await t.drop();
    client.destroy();
  });

  async function run(tasksPerMessage: number) {
    const table = await createLedgerTable(client);
    tables.push(table);
    const sent: string[] = [];
    client.middlewareStack.add(
      (next, context) => (args) => {
        sent.push(context.commandName ?? 'unknown');
        return next(args);
      },
      { step: 'initialize', name: `count-${table.tableName}` },
    );
    const store = new DynamoDbLedgerStore({ client, tableName: table.tableName });
    // Room for every task: the figure is about batching, not about a full fleet.
    const fleet = new StaticFleet(
      Array.from({ length: 20 }, (_, i) => vm(`vm-${i}`, { cpu: 100_000, mem: 100_000, io: 1000, bw: 1000 })),
    );
    const engine = new SchedulingEngine({
      store,
      fleet,
      clock: systemClock,
      algorithm: 'best-fit',
      dimensions: DIMENSIONS,
      blockSize: BLOCK_SIZE,
      maxTasksPerCommit: maxTasksPerCommit(BLOCK_SIZE),
    });
    // The bodies the enqueue function would send, captured from its sender.
    const bodies: string[] = [];
    const sender = new SqsTaskSender(
      {
        send: async (command: { input: { Entries?: { Id?: string; MessageBody?: string }[] } }) => {
          const entries = command.input.Entries ?? [];
          bodies.push(...entries.map((e) => e.MessageBody!));
          return { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [], $metadata: {} };
        },
      } as never,
      'https://sqs.us-east-1.amazonaws.com/000000000000/tasks',
      { tasksPerMessage },
    );
    const now = Math.floor(Date.now() / 1000);
    const tasks = Array.from({ length: RECORDS * tasksPerMessage }, (_, i) =>
      task(
        `${table.tableName}-${i}`,
        { cpu: 10, mem: 10, io: 0, bw: 0 },
        { deadline: now + 3600, submittedAt: Date.now() },
      ),
    );
    await sender.send(tasks);
    expect(bodies).toHaveLength(RECORDS);

    const handler = schedulerHandler({
      engine: () => engine,
      dimensions: DIMENSIONS,
      logger: new RecordingLogger(),
      metrics: new RecordingMetrics(),
      deadLetters: { send: async () => ({ failed: [] }) },
      maxReceiveCount: 5,
      blocks: store,
    });
    await store.readHead(); // writes the genesis block of the fresh table, outside the count
    sent.length = 0;
    const response = await handler(sqsEvent(...bodies.map((b, i) => sqsRecord(`m-${i}`, b))), lambdaContext);
    const requests = sent.length;

    expect(response.batchItemFailures).toEqual([]);
    const head = await store.readHead();
    const blocks = await store.getBlocks(0, head.height + 1);
    expect((await verifyChain(blocks)).valid).toBe(true);
    const recorded = blocks.flatMap((b) => b.transactions.map((t) => t.task_id));
    expect(recorded.sort()).toEqual(tasks.map((t) => t.id).sort());
    // Full blocks: the batch is one schedule call, however many tasks each record carries.
    expect(blocks.length - 1).toBe(Math.ceil(tasks.length / BLOCK_SIZE));
    return {
      tasks: tasks.length,
      requests,
      sent: sent.slice(0, requests),
    };
  }

  it('records 10 records of 25 tasks in full blocks, every task once, in ceil(250 / limit) transactions', async () => {
    const one = await run(1);
    const packed = await run(25);
    // Chunks of whole blocks under DynamoDB's 100-item limit: 31 tasks allowed, 30 taken, 9 commits.
    const chunk = maxTasksPerCommit(BLOCK_SIZE) - (maxTasksPerCommit(BLOCK_SIZE) % BLOCK_SIZE);
    expect(packed.sent.filter((c) => c === 'TransactWriteItemsCommand')).toHaveLength(Math.ceil(250 / chunk));
    expect(one.sent.filter((c) => c === 'TransactWriteItemsCommand')).toHaveLength(1);
    // For docs/performance.md: decisions per DynamoDB request, one task per message against 25.
    console.info(
      `decisions per DynamoDB request: ${(one.tasks / one.requests).toFixed(2)} (1 task/message, ${one.requests} requests) vs ${(packed.tasks / packed.requests).toFixed(2)} (25 tasks/message, ${packed.requests} requests)`,
    );
  });
});
