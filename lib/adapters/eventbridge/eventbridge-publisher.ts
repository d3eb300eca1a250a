import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import type { AssignmentPublisher, PublishFailure, TaskAssigned } from '../../ports/dispatcher';

/** The event's source and detail-type: what a rule matches TaskAssigned events on. */
export const TASK_ASSIGNED_SOURCE = 'bcs.scheduler';
export const TASK_ASSIGNED_DETAIL_TYPE = 'TaskAssigned';
/** PutEvents takes at most 10 entries per call. */
export const MAX_ENTRIES_PER_PUT = 10;
/** And at most 256 KB per call, counted as entrySize does. */
export const MAX_BYTES_PER_PUT = 256 * 1024;

/**
 * An entry's size as EventBridge counts it against the 256 KB limit
 * (docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html): the UTF-8 bytes of
 * Source, DetailType, Detail and each Resources ARN, plus 14 bytes when Time is set. The bus name is
 * not counted.
 */
export function entrySize(entry: PutEventsRequestEntry): number {
  const bytes = (s: string | undefined) => (s === undefined ? 0 : Buffer.byteLength(s, 'utf8'));
  return (
    (entry.Time ? 14 : 0) +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    (entry.Resources ?? []).reduce((n, r) => n + bytes(r), 0)
  );
}

export interface EventBridgePublisherOptions {
  client: EventBridgeClient;
  /** Name or ARN of the bus. */
  eventBusName: string;
}

/**
 * TaskAssigned events to an EventBridge bus: as many per PutEvents call as fit in 10 entries and
 * 256 KB, in order. One event larger than 256 KB on its own is reported as a failure without a call
 * (EventBridge would refuse the whole request).
 */
export class EventBridgePublisher implements AssignmentPublisher {
  constructor(private readonly options: EventBridgePublisherOptions) {}

  async publish(events: readonly TaskAssigned[]): Promise<PublishFailure[]> {
    const failures: PublishFailure[] = [];
    for (const batch of this.batches(events, failures)) {
      const { Entries = [], FailedEntryCount = 0 } = await this.options.client.send(
        new PutEventsCommand({ Entries: batch.map(({ entry }) => entry) }),
      );
      if (FailedEntryCount === 0) continue;
      // Result entries are in request order; a failed one carries an error code instead of an id.
      batch.forEach(({ event }, j) => {
        const result = Entries[j];
        if (result?.EventId && !result.ErrorCode) return;
        failures.push({
          transactionId: event.transactionId,
          error: `${result?.ErrorCode ?? 'NoResult'}: ${result?.ErrorMessage ?? 'no result entry'}`,
        });
      });
    }
    return failures;
  }

  /** Consecutive runs of events within both limits; events too large alone go to `failures`. */
  private batches(events: readonly TaskAssigned[], failures: PublishFailure[]) {
    type Item = { event: TaskAssigned; entry: PutEventsRequestEntry; size: number };
    const batches: Item[][] = [];
    let current: Item[] = [];
    let bytes = 0;
    for (const event of events) {
      const entry = this.entry(event);
      const size = entrySize(entry);
      if (size > MAX_BYTES_PER_PUT) {
        failures.push({
          transactionId: event.transactionId,
          error: `EntryTooLarge: the event is ${size} bytes, more than the ${MAX_BYTES_PER_PUT} PutEvents accepts`,
        });
        continue;
      }
      if (current.length === MAX_ENTRIES_PER_PUT || bytes + size > MAX_BYTES_PER_PUT) {
        batches.push(current);
        current = [];
        bytes = 0;
      }
      current.push({ event, entry, size });
      bytes += size;
    }
    if (current.length > 0) batches.push(current);
    return batches;
  }

  private entry(event: TaskAssigned): PutEventsRequestEntry {
    return {
      EventBusName: this.options.eventBusName,
      Source: TASK_ASSIGNED_SOURCE,
      DetailType: TASK_ASSIGNED_DETAIL_TYPE,
      Detail: JSON.stringify(event),
    };
  }
}
