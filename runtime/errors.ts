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
