import { describe, expect, it } from 'vitest';
import {
  CanonicalizationError,
  canonicalBytes,
  canonicalString,
  fromHex,
  sha256Hex,
  toHex,
} from '../../../lib/ledger';

describe('canonicalString (RFC 8785)', () => {
  it('sorts member names by UTF-16 code units, recursively, and drops whitespace', () => {
    // RFC 8785 section 3.2.3: "\u20ac" (euro) sorts after "\r" and "1" and before the emoji's surrogates.
    const value = { b: [3, { z: 1, a: 2 }], a: 'x', '\u20ac': 1, '\r': 2, '1': 3, '\u{1F600}': 4 };
    expect(canonicalString(value)).toBe('{"\\r":2,"1":3,"a":"x","b":[3,{"a":2,"z":1}],"€":1,"😀":4}');
  });

  it.each([
    // RFC 8785 appendix B: numbers are serialised as ECMAScript Number.prototype.toString does.
    [0, '0'],
    [-0, '0'],
    [1e21, '1e+21'],
    [1e-7, '1e-7'],
    [0.000001, '0.000001'],
    [123456789012345680000, '123456789012345680000'],
    [5e-324, '5e-324'],
    [-1.7976931348623157e308, '-1.7976931348623157e+308'],
    [1.5, '1.5'],
    [100, '100'],
  ])('writes the number %s as %s', (n, text) => {
    expect(canonicalString(n)).toBe(text);
  });

  it('escapes only what JSON requires, with lowercase \\u00xx for control characters', () => {
    expect(canonicalString('a"\\\b\f\n\r\t\u0001/é')).toBe('"a\\"\\\\\\b\\f\\n\\r\\t\\u0001/é"');
  });

  it('encodes as UTF-8', () => {
    expect(toHex(canonicalBytes({ k: 'é€😀' }))).toBe(toHex(new TextEncoder().encode('{"k":"é€😀"}')));
    expect(canonicalBytes('é')).toEqual(fromHex('22c3a922'));
  });

  it('hashes the same for any member order', () => {
    expect(sha256Hex(canonicalBytes({ a: 1, b: { c: null, d: true } }))).toBe(
      sha256Hex(canonicalBytes({ b: { d: true, c: null }, a: 1 })),
    );
  });

  it.each([
    ['NaN', { a: { b: [1, Number.NaN] } }, 'a.b.1'],
    ['Infinity', { score: Number.POSITIVE_INFINITY }, 'score'],
    ['-Infinity', [Number.NEGATIVE_INFINITY], '0'],
    ['undefined member', { a: 1, gone: undefined }, 'gone'],
    ['undefined element', { list: [1, undefined] }, 'list.1'],
    ['undefined value', undefined, ''],
    ['lone surrogate', { reason: 'x\uD800y' }, 'reason'],
    ['lone surrogate in a key', { 'k\uDC00': 1 }, 'k\uDC00'],
    ['bigint', { n: 1n }, 'n'],
    ['function', { f: () => 1 }, 'f'],
    ['Date', { at: new Date(0) }, 'at'],
    ['Map', { m: new Map() }, 'm'],
  ])('rejects %s, naming the path', (_label, value, path) => {
    try {
      canonicalString(value);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(CanonicalizationError);
      expect((error as CanonicalizationError).path).toBe(path);
    }
  });

  it('rejects circular structures', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(() => canonicalString(a)).toThrow(CanonicalizationError);
  });

  it('accepts a shared (non-circular) sub-object twice', () => {
    const shared = { x: 1 };
    expect(canonicalString({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });
});

describe('hex helpers', () => {
  it('round-trips and refuses anything but lowercase hex of whole bytes', () => {
    expect(toHex(fromHex('00ff10'))).toBe('00ff10');
    for (const bad of ['0', 'FF', 'zz', '0x00', ' 00']) expect(() => fromHex(bad)).toThrow(TypeError);
  });
});
