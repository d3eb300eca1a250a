import { SchedulerError } from '../lib/errors';

/** The durable queue holds as many tasks as the runtime is configured to let wait. */
export class QueueFullError extends SchedulerError {
  override name = 'QueueFullError';
  constructor(
    readonly depth: number,
    readonly limit: number,
  ) {
    super(`the queue holds ${depth} tasks (limit ${limit}); retry later`);
  }
}

/** A route's target does not exist. */
export class NotFoundError extends SchedulerError {
  override name = 'NotFoundError';
}

/**
 * A request would grow something past a configured limit (the fleet past max_fleet_size, the live
 * event streams past max_event_clients). Answered 409 (or 503 for streams) naming the limit.
 */
export class LimitExceededError extends SchedulerError {
  override name = 'LimitExceededError';
  constructor(
    /** The config key of the limit. */
    readonly limit: string,
    readonly value: number,
    /** The request field that asked for more, '' when none. */
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}
