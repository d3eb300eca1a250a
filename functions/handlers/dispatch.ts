import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import * as z from 'zod';
import { blockFromItem } from '../../lib/adapters/dynamodb/items';
import { BLOCK_PREFIX, PARTITION_KEY } from '../../lib/adapters/dynamodb/keys';
import { type Dispatcher, type DispatchOutcome, PublishFailedError } from '../../lib/dispatch/dispatcher';
import { parseOrThrow } from '../../lib/errors';
import type { Block } from '../../lib/ledger/types';
import type { LogSink, MetricSink } from '../../lib/ports/observability';

export interface DispatchDeps {
  dispatcher: () => Dispatcher | Promise<Dispatcher>;
  logger: LogSink;
  metrics: MetricSink;
}

/** The part of a stream record the handler reads; NewImage is absent for removals. */
const streamRecordSchema = z.object({
  eventName: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
  dynamodb: z.object({
    SequenceNumber: z.string().min(1),
    NewImage: z.record(z.string(), z.unknown()).optional(),
  }),
});

/** A block item in its stream image, or null for any other item (the table holds many kinds). */
function blockOf(image: Record<string, unknown> | undefined): Block | null {
  if (!image) return null;
  const item = unmarshall(image as Record<string, AttributeValue>);
  const key = item[PARTITION_KEY];
  return typeof key === 'string' && key.startsWith(BLOCK_PREFIX) ? blockFromItem(item) : null;
}

/**
 * The ledger table's stream (NEW_IMAGE, filtered to inserted BLOCK# items) is the outbox of the
 * scheduler: a block is committed first and dispatched from here, so an assignment is delivered even
 * when the scheduler that committed it died a moment later. Records are dispatched in stream order,
 * one block at a time; on the first failure the handler reports that record, Lambda keeps the ones
 * before it as done and hands over the rest again (at least once: TaskAssigned consumers dedupe on
 * transactionId, commands are guarded by their claim).
 */
export function dispatchHandler(deps: DispatchDeps) {
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const totals: Totals = {
      blocks: 0,
      published: 0,
      skipped: 0,
      commandsSent: 0,
      commandsFailed: 0,
      commandsUncertain: 0,
    };
    try {
      for (const raw of event.Records) {
        let sequence: string | undefined;
        try {
          const record = parseOrThrow(streamRecordSchema, raw, 'stream record');
          sequence = record.dynamodb.SequenceNumber;
          if (record.eventName !== 'INSERT') continue;
          const block = blockOf(record.dynamodb.NewImage);
          if (!block) continue;
          const outcome = await (await deps.dispatcher()).dispatch([block]);
          count(totals, outcome);
          log(deps.logger, block, outcome);
        } catch (error) {
          deps.logger.error('dispatch failed; the stream hands this record and the rest over again', {
            error,
            sequenceNumber: sequence,
            ...(error instanceof PublishFailedError ? { failures: error.failures } : {}),
          });
          deps.metrics.addMetric('DispatchFailures', 'Count', 1);
          // Without a sequence number Lambda cannot resume mid-batch: fail the whole batch.
          if (sequence === undefined) throw error;
          return { batchItemFailures: [{ itemIdentifier: sequence }] };
        }
      }
      return { batchItemFailures: [] };
    } finally {
      deps.metrics.addMetric('BlocksDispatched', 'Count', totals.blocks);
      deps.metrics.addMetric('TaskAssignedPublished', 'Count', totals.published);
      deps.metrics.addMetric('AssignmentsSkipped', 'Count', totals.skipped);
      deps.metrics.addMetric('CommandsSent', 'Count', totals.commandsSent);
      deps.metrics.addMetric('CommandsFailed', 'Count', totals.commandsFailed);
      deps.metrics.addMetric('CommandsUncertain', 'Count', totals.commandsUncertain);
      deps.metrics.publishStoredMetrics();
    }
  };
}

interface Totals {
  blocks: number;
  published: number;
  skipped: number;
  commandsSent: number;
  commandsFailed: number;
  commandsUncertain: number;
}

function count(totals: Totals, outcome: DispatchOutcome): void {
  totals.blocks += 1;
  totals.published += outcome.published.length;
  totals.skipped += outcome.skipped.length;
  totals.commandsSent += outcome.commands.filter((c) => c.status === 'sent').length;
  totals.commandsFailed += outcome.commands.filter((c) => c.status === 'send-failed').length;
  totals.commandsUncertain += outcome.commands.filter((c) => c.status === 'send-uncertain').length;
}

function log(logger: LogSink, block: Block, outcome: DispatchOutcome): void {
  if (outcome.published.length > 0) {
    logger.info('TaskAssigned published', {
      height: block.height,
      transactions: outcome.published.map((e) => e.transactionId),
    });
  }
  for (const s of outcome.skipped) {
    logger.warn('assignment not dispatched', { height: block.height, ...s.assignment, reason: s.reason });
  }
  for (const c of outcome.commands) {
    if (c.status === 'sent') logger.info('command sent', c);
    else if (c.status === 'send-failed') logger.error('command not sent', c);
    // Never retried: the claim stays, and lease expiry ends the assignment if the command did not run.
    else if (c.status === 'send-uncertain') logger.error('command may or may not have been sent', c);
    else logger.info('command not sent again', c);
  }
}
