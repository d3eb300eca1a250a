import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { dispatchHandler } from '../../../functions/handlers/dispatch';
import { blockToItem, taskToItem } from '../../../lib/adapters/dynamodb/items';
import { Dispatcher } from '../../../lib/dispatch/dispatcher';
import { SpecRecordingEngine } from '../../../lib/dispatch/spec-recording-engine';
import type { Block } from '../../../lib/ledger/types';
import { MemoryDispatchRecords, RecordingPublisher, RecordingRunner } from '../dispatch/fakes';
import { ledger, RecordingLogger, RecordingMetrics, task, vm } from './helpers/fixtures';

let sequence = 100;

/** A stream record as Lambda hands it over, the image marshalled as DynamoDB writes it. */
function record(
  item: Record<string, unknown>,
  eventName: DynamoDBRecord['eventName'] = 'INSERT',
): DynamoDBRecord {
  sequence += 1;
  return {
    eventName,
    eventSource: 'aws:dynamodb',
    dynamodb: {
      SequenceNumber: String(sequence),
      Keys: marshall({ pk: item.pk }) as never,
      // aws-lambda types its own AttributeValue; the SDK's marshalled form is the same JSON.
      ...(eventName === 'REMOVE' ? {} : { NewImage: marshall(item) as never }),
      StreamViewType: 'NEW_IMAGE',
    },
  };
}

const streamOf = (...records: DynamoDBRecord[]): DynamoDBStreamEvent => ({ Records: records });
const blockRecord = (block: Block, eventName?: DynamoDBRecord['eventName']) =>
  record(blockToItem(block), eventName);

async function setup() {
  const base = ledger([vm('vm-a', { cpu: 1000, mem: 1000, io: 100, bw: 100 })]);
  const records = new MemoryDispatchRecords();
  const engine = new SpecRecordingEngine(base.engine, records);
  const publisher = new RecordingPublisher();
  const runner = new RecordingRunner();
  const dispatcher = new Dispatcher({
    tasks: base.store,
    records,
    publisher,
    commands: runner,
    templates: { true: { run: ['/bin/true'] } },
    clock: base.clock,
  });
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const handler = dispatchHandler({ dispatcher: () => dispatcher, logger, metrics });
  // Three blocks of one task each, the first with a command.
  const blocks: Block[] = [];
  for (const t of [
    task('t1', { cpu: 100 }, { command: 'true' }),
    task('t2', { cpu: 100 }),
    task('t3', { cpu: 100 }),
  ]) {
    blocks.push(...(await engine.schedule([t])).blocks);
  }
  return { store: base.store, publisher, runner, logger, metrics, handler, blocks };
}

describe('dispatch handler: the ledger stream', () => {
  it('dispatches inserted blocks in stream order and ignores every other record', async () => {
    const { store, publisher, runner, metrics, handler, blocks } = await setup();
    const task1 = (await store.getTask('t1'))!;

    const result = await handler(
      streamOf(
        blockRecord(blocks[0]!),
        record(taskToItem(task1)), // a TASK# item: not a block
        blockRecord(blocks[1]!, 'MODIFY'), // blocks are never modified; nothing to send
        blockRecord(blocks[2]!),
        blockRecord(blocks[1]!, 'REMOVE'),
      ),
    );

    expect(result).toEqual({ batchItemFailures: [] });
    expect(publisher.events.map((e) => [e.task.id, e.blockHeight])).toEqual([
      ['t1', blocks[0]!.height],
      ['t3', blocks[2]!.height],
    ]);
    expect(runner.sent.map((r) => [r.template, r.arguments])).toEqual([['true', []]]);
    expect(metrics.last('BlocksDispatched')).toEqual([2]);
    expect(metrics.last('TaskAssignedPublished')).toEqual([2]);
    expect(metrics.last('CommandsSent')).toEqual([1]);
  });

  it('counts and logs a send with no answer as uncertain, and does not fail the record for it', async () => {
    const { runner, logger, metrics, handler, blocks } = await setup();
    runner.silent.add('vm-a');

    expect(await handler(streamOf(blockRecord(blocks[0]!)))).toEqual({ batchItemFailures: [] });

    expect(metrics.last('CommandsUncertain')).toEqual([1]);
    expect(logger.at('error').map((e) => e.message)).toEqual(['command may or may not have been sent']);
  });

  it('on a failed block reports its sequence number: the blocks before it are done, it and the rest come again', async () => {
    const { publisher, logger, metrics, handler, blocks } = await setup();
    publisher.refuse.add(blocks[1]!.transactions[0]!.transaction_id);
    const records = blocks.map((b) => blockRecord(b));

    const result = await handler(streamOf(...records));

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: records[1]!.dynamodb!.SequenceNumber }] });
    expect(publisher.events.map((e) => e.task.id)).toEqual(['t1']);
    expect(logger.at('error')[0]?.extra[0]).toMatchObject({
      sequenceNumber: records[1]!.dynamodb!.SequenceNumber,
    });
    expect(metrics.last('DispatchFailures')).toEqual([1]);
  });

  it('a block item that does not parse is reported by its sequence number, nothing after it is dispatched', async () => {
    const { publisher, handler, blocks } = await setup();
    const broken = record({ ...blockToItem(blocks[1]!), transactions: '{not json' });

    const result = await handler(streamOf(blockRecord(blocks[0]!), broken, blockRecord(blocks[2]!)));

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: broken.dynamodb!.SequenceNumber }] });
    expect(publisher.events.map((e) => e.task.id)).toEqual(['t1']);
  });

  it('a record without a sequence number fails the whole batch, naming the field', async () => {
    const { publisher, handler, blocks } = await setup();
    const bad = blockRecord(blocks[0]!);
    delete bad.dynamodb!.SequenceNumber;

    await expect(handler(streamOf(bad))).rejects.toThrow(/dynamodb\.SequenceNumber/);
    expect(publisher.events).toEqual([]);
  });
});
