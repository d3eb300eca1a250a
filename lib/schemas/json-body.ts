import * as z from 'zod';
import { ValidationError } from '../errors';

/**
 * Request bodies as JSON, stricter than JSON.parse on a decoded string: bytes that are not UTF-8 are
 * refused rather than turned into U+FFFD (which would store a value the client never sent), and so
 * is a "__proto__" key anywhere in the document, which zod's records drop without a word (so
 * `labels: {"__proto__": "x"}` would be accepted as `{}`) and which some consumers would take for the
 * prototype.
 */

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const bodyError = (message: string, field = '') =>
  new ValidationError([{ field, message }], 'invalid request body');

/** The body's text; a ValidationError on the body itself when it is not UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw bodyError('request body is not UTF-8');
  }
}

/** JSON.parse, refusing text that is not JSON and prototype keys at any depth. */
export function parseJsonText(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bodyError('request body is not valid JSON');
  }
  assertNoPrototypeKeys(value);
  return value;
}

/**
 * Throws a ValidationError naming the first "__proto__" key (e.g. `labels.__proto__`). Iterative, so
 * a body nested ten thousand levels deep costs a loop, not the stack.
 */
export function assertNoPrototypeKeys(value: unknown): void {
  // Paths are built only for the key reported: building one per node would be quadratic in the depth.
  interface Node {
    value: unknown;
    key: string;
    parent: Node | null;
  }
  const pathOf = (node: Node | null, key: string): string => {
    const keys = [key];
    for (let n = node; n?.parent; n = n.parent) keys.push(n.key);
    return keys.reverse().join('.');
  };
  const pending: Node[] = [{ value, key: '', parent: null }];
  for (let node = pending.pop(); node; node = pending.pop()) {
    const current = node.value;
    if (typeof current !== 'object' || current === null) continue;
    if (Array.isArray(current)) {
      for (let i = 0; i < current.length; i++)
        pending.push({ value: current[i], key: String(i), parent: node });
      continue;
    }
    for (const key of Object.keys(current)) {
      if (key === '__proto__') throw bodyError('the key "__proto__" is not allowed', pathOf(node, key));
      pending.push({ value: (current as Record<string, unknown>)[key], key, parent: node });
    }
  }
}

/**
 * `schema` (a record) behind a check for an own "__proto__" key, which z.record would drop without an
 * issue: for values that never went through parseJsonText (queue messages, files). A transform
 * rather than a refinement in front, because z.toJSONSchema documents the input of a pipe whose
 * first stage is a transform as the second stage (the OpenAPI document keeps the record's shape).
 */
export function withoutPrototypeKey<S extends z.ZodType>(schema: S) {
  return z
    .transform((value: unknown, ctx) => {
      if (typeof value === 'object' && value !== null && Object.hasOwn(value, '__proto__')) {
        ctx.issues.push({
          code: 'custom',
          message: 'the key "__proto__" is not allowed',
          path: ['__proto__'],
          input: value,
        });
        return z.NEVER;
      }
      return value;
    })
    .pipe(schema);
}
