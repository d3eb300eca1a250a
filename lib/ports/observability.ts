/**
 * The slices of Powertools' Logger and Metrics the handlers use, so that tests can hand in
 * recorders and assert what was logged and counted.
 */
export interface LogSink {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  /** Errors go in as attribute values (`{ error }`); Powertools formats them with their stack. */
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export interface MetricSink {
  addMetric(name: string, unit: 'Count' | 'None' | 'Milliseconds', value: number): void;
  /** Flushes the metrics added during this invocation (EMF on Lambda). */
  publishStoredMetrics(): void;
}
