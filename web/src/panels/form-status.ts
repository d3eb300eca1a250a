import { ValidationError } from '../../../lib/errors';
import { ApiError } from '../api';

/** Writes an action's outcome under its form; errors name the field, as the API's do. */
export function showStatus(element: HTMLElement, kind: 'ok' | 'error' | 'pending', message: string): void {
  element.className = `form-status ${kind}`;
  element.dataset.state = kind;
  element.textContent = message;
}

export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.describe();
  if (error instanceof ValidationError) {
    return error.issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join('; ');
  }
  return error instanceof Error ? error.message : String(error);
}

/** A number input's value; an empty box is `undefined` so the schema reports it as missing. */
export function numberValue(input: HTMLInputElement): number | undefined {
  return input.value.trim() === '' ? undefined : input.valueAsNumber;
}
