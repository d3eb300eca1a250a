import type * as z from 'zod';

/** Base of every error the core throws on purpose. */
export class SchedulerError extends Error {
  override name = 'SchedulerError';
}

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. "tasks.3.cpu"; "" for the value itself. */
  field: string;
  message: string;
}

/** Input that failed validation. Nothing was written. */
export class ValidationError extends SchedulerError {
  override name = 'ValidationError';
  constructor(
    readonly issues: FieldIssue[],
    context = 'invalid input',
  ) {
    super(`${context}: ${issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join('; ')}`);
  }

  static fromZod(error: z.ZodError, context?: string, prefix: (string | number)[] = []): ValidationError {
    return new ValidationError(
      error.issues.map((issue) => ({
        field: [...prefix, ...issue.path].map(String).join('.'),
        message: issue.message,
      })),
      context,
    );
  }
}

/** Parse with a zod schema, throwing a ValidationError that names each bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, context?: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw ValidationError.fromZod(result.error, context);
  return result.data;
}

/**
 * The store did not take the write in time (locked, busy, out of space, unreachable). Nothing was
 * written; the same request may be sent again later.
 */
export class StoreUnavailableError extends SchedulerError {
  override name = 'StoreUnavailableError';
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
  }
}

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
