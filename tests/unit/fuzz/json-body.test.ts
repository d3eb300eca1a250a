import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { ValidationError } from '../../../lib/errors';
import {
  assertNoPrototypeKeys,
  decodeUtf8,
  parseJsonText,
  withoutPrototypeKey,
} from '../../../lib/schemas/json-body';
import { deeplyNested, serialise, withKey } from './json-text';

const issuesOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error.issues;
    throw error;
  }
  throw new Error('expected a ValidationError');
};

describe('decodeUtf8', () => {
  it.each([
    ['a lone continuation byte', [0x80]],
    ['0xff', [0xff]],
    ['a truncated sequence', [0xe2, 0x82]],
    ['an overlong slash', [0xc0, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
  ])('refuses %s instead of storing U+FFFD', (_name, bytes) => {
    expect(issuesOf(() => decodeUtf8(Buffer.from([0x22, ...bytes, 0x22])))).toEqual([
      { field: '', message: 'request body is not UTF-8' },
    ]);
  });

  it('returns any well-formed text unchanged, a leading BOM included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        expect(decodeUtf8(Buffer.from(text, 'utf8'))).toBe(text);
      }),
    );
    // Kept, so JSON.parse refuses it rather than the BOM being dropped in silence.
    expect(decodeUtf8(Buffer.from('\uFEFF{}', 'utf8'))).toBe('\uFEFF{}');
  });
});

describe('parseJsonText', () => {
  it('names a "__proto__" key at any depth by its path', () => {
    const body = serialise({ labels: withKey({ team: 'a' }, '__proto__', 'x') }) as string;
    expect(issuesOf(() => parseJsonText(body))).toEqual([
      { field: 'labels.__proto__', message: 'the key "__proto__" is not allowed' },
    ]);
    const nested = serialise([{ a: [1, withKey({}, '__proto__', {})] }]) as string;
    expect(issuesOf(() => parseJsonText(nested)).map((i) => i.field)).toEqual(['0.a.1.__proto__']);
  });

  it('is the guard zod lacks: a record drops "__proto__" without an issue', () => {
    const value = JSON.parse('{"__proto__":"x","team":"a"}');
    expect(z.record(z.string(), z.string()).parse(value)).toEqual({ team: 'a' });
    expect(() => assertNoPrototypeKeys(value)).toThrow(ValidationError);
    expect(
      withoutPrototypeKey(z.record(z.string(), z.string())).safeParse(value).error?.issues,
    ).toMatchObject([{ path: ['__proto__'], message: 'the key "__proto__" is not allowed' }]);
  });

  it('documents the guarded record as the record itself (the OpenAPI document is generated from zod)', () => {
    const record = z.record(z.string().regex(/^[a-z]+$/), z.string().max(3));
    for (const io of ['input', 'output'] as const) {
      expect(z.toJSONSchema(withoutPrototypeKey(record), { io })).toEqual(z.toJSONSchema(record, { io }));
    }
  });

  it('allows "constructor" and "prototype", which are ordinary own keys', () => {
    expect(parseJsonText('{"constructor":1,"prototype":{"toString":2}}')).toEqual({
      constructor: 1,
      prototype: { toString: 2 },
    });
  });

  it('walks ten thousand levels without exhausting the stack', () => {
    for (const kind of ['array', 'object'] as const) {
      const text = serialise(deeplyNested(10_000, kind)) as string;
      expect(() => parseJsonText(text)).not.toThrow();
    }
    const deepProto = `${'{"a":'.repeat(5000)}{"__proto__":1}${'}'.repeat(5000)}`;
    expect(issuesOf(() => parseJsonText(deepProto))[0]!.field).toBe(`${'a.'.repeat(5000)}__proto__`);
  });

  it('refuses text that is not JSON on the body itself', () => {
    for (const text of ['', 'NaN', '{"a":Infinity}', '\uFEFF{}', '{"a":1,}']) {
      expect(issuesOf(() => parseJsonText(text))).toEqual([
        { field: '', message: 'request body is not valid JSON' },
      ]);
    }
  });
});
