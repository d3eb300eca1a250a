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
