/**
 * JSON text with holes: values JSON.stringify cannot produce (bare NaN, 1e999, hex literals, bytes
 * that are not UTF-8, 10,000 levels of nesting) are written as a Raw placeholder and spliced into
 * the serialised text afterwards, so a hostile token lands exactly where a field's value belongs.
 */

const MARK = '\u0000raw:';

export class Raw {
  constructor(
    /** Spliced in verbatim, in place of the JSON value. */
    readonly text: string | Uint8Array,
  ) {}
}

/** JSON text of `value` with every Raw replaced by its text; bytes when any Raw carries bytes. */
export function serialise(value: unknown): string | Uint8Array {
  const raws: Raw[] = [];
  const json = JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Raw) {
      raws.push(v);
      return `${MARK}${raws.length - 1}`;
    }
    return v;
  });
  const parts: (string | Uint8Array)[] = [];
  let rest = json;
  const pattern = /"\\u0000raw:(\d+)"/;
  for (let match = pattern.exec(rest); match; match = pattern.exec(rest)) {
    parts.push(rest.slice(0, match.index), raws[Number(match[1])]!.text);
    rest = rest.slice(match.index + match[0].length);
  }
  parts.push(rest);
  if (parts.every((p) => typeof p === 'string')) return parts.join('');
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
}

/** An object whose own enumerable key is literally "__proto__" (an object literal would set the prototype). */
export function withKey(base: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const copy = { ...base };
  Object.defineProperty(copy, key, { value, enumerable: true, configurable: true, writable: true });
  return copy;
}

/** `depth` nested arrays or objects as raw JSON text; JSON.stringify would recurse that deep. */
export function deeplyNested(depth: number, kind: 'array' | 'object'): Raw {
  return new Raw(
    kind === 'array'
      ? `${'['.repeat(depth)}${']'.repeat(depth)}`
      : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
  );
}

/** A JSON string whose content holds bytes that are not UTF-8. */
export function invalidUtf8String(prefix: string, bytes: readonly number[]): Raw {
  return new Raw(Buffer.concat([Buffer.from(`"${prefix}`), Buffer.from(bytes), Buffer.from('"')]));
}
