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

export interface EventBridgePublisherOptions {
  client: EventBridgeClient;
  /** Name or ARN of the bus. */
  eventBusName: string;
}

/** TaskAssigned events to an EventBridge bus, 10 per PutEvents call. */
export class EventBridgePublisher implements AssignmentPublisher {
  constructor(private readonly options: EventBridgePublisherOptions) {}

  async publish(events: readonly TaskAssigned[]): Promise<PublishFailure[]> {
    const failures: PublishFailure[] = [];
    for (let i = 0; i < events.length; i += MAX_ENTRIES_PER_PUT) {
      const chunk = events.slice(i, i + MAX_ENTRIES_PER_PUT);
      const { Entries = [], FailedEntryCount = 0 } = await this.options.client.send(
        new PutEventsCommand({ Entries: chunk.map((e) => this.entry(e)) }),
      );
      if (FailedEntryCount === 0) continue;
      // Result entries are in request order; a failed one carries an error code instead of an id.
      chunk.forEach((event, j) => {
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

  private entry(event: TaskAssigned): PutEventsRequestEntry {
    return {
      EventBusName: this.options.eventBusName,
      Source: TASK_ASSIGNED_SOURCE,
      DetailType: TASK_ASSIGNED_DETAIL_TYPE,
      Detail: JSON.stringify(event),
    };
  }
}
