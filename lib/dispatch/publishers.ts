import type { AssignmentPublisher, PublishFailure, TaskAssigned } from '../ports/dispatcher';

/**
 * Every event to each publisher in turn (the stack's bus, then the agents' queues). An event one of
 * them could not take is a failure, so the block is handed over again and the event reaches all of
 * them at least once; the ones that had it already get a duplicate, which TaskAssigned consumers
 * expect (they dedupe on transactionId).
 */
export function publishToAll(publishers: readonly AssignmentPublisher[]): AssignmentPublisher {
  return {
    async publish(events: readonly TaskAssigned[]): Promise<PublishFailure[]> {
      const failures = new Map<string, string[]>();
      for (const publisher of publishers) {
        for (const { transactionId, error } of await publisher.publish(events)) {
          failures.set(transactionId, [...(failures.get(transactionId) ?? []), error]);
        }
      }
      return [...failures].map(([transactionId, errors]) => ({ transactionId, error: errors.join('; ') }));
    },
  };
}
