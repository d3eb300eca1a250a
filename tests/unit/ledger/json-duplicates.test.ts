import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { duplicateMemberPath } from '../../../lib/ledger/json-duplicates';

/**
 * duplicateMemberPath against an oracle that knows the answer by construction: JSON text is written
 * from a tree whose objects are lists of [name, value] pairs (so a name may repeat), names spelled with
 * or without escapes, and the oracle finds the first repeat on the same tree.
 */

type Node = null | number | string | Node[] | { pairs: [string, Node][] };

const names = fc.constantFrom('a', 'b', 'reason', 'é', '😀', 'a"b', 'x\\y', '');
const leaf = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.constantFrom('a', '{', '"', ',', ':', '[', '}', ']'),
);
const tree = fc.letrec<{ node: Node }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('node'), { maxLength: 4 }),
    fc.record({ pairs: fc.array(fc.tuple(names, tie('node')), { maxLength: 5 }) }),
  ),
})).node;

/** A JSON spelling of a string: JSON.stringify's, or every UTF-16 code unit as a \u escape. */
function spell(s: string, escaped: boolean): string {
  if (!escaped) return JSON.stringify(s);
  let out = '"';
  for (let i = 0; i < s.length; i++) out += `\\u${s.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return `${out}"`;
}

function write(node: Node, escaped: () => boolean): string {
  if (node === null || typeof node === 'number') return JSON.stringify(node);
  if (typeof node === 'string') return spell(node, escaped());
  if (Array.isArray(node)) return `[ ${node.map((n) => write(n, escaped)).join(' , ')} ]`;
  return `{${node.pairs.map(([k, v]) => `${spell(k, escaped())} :${write(v, escaped)}`).join(',')}}`;
}

// The oracle walks in document order, so the first repeat it meets is the scanner's first.
function firstRepeat(node: Node, path: string): string | null {
  if (Array.isArray(node)) {
    for (const [i, n] of node.entries()) {
      const found = firstRepeat(n, path === '' ? `${i}` : `${path}.${i}`);
      if (found !== null) return found;
    }
    return null;
  }
  if (node === null || typeof node !== 'object') return null;
  const seen = new Set<string>();
  for (const [k, v] of node.pairs) {
    const at = path === '' ? k : `${path}.${k}`;
    if (seen.has(k)) return at;
    seen.add(k);
    const found = firstRepeat(v, at);
    if (found !== null) return found;
  }
  return null;
}

describe('duplicateMemberPath', () => {
  it('finds the first repeated name at any depth, however the names are spelled, and nothing else', () => {
    fc.assert(
      fc.property(tree, fc.infiniteStream(fc.boolean()), (node, bits) => {
        const text = write(node, () => bits.next().value as boolean);
        JSON.parse(text); // the precondition: text JSON.parse accepts
        expect(duplicateMemberPath(text)).toBe(firstRepeat(node, ''));
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['{"reason":"forged","reason":"real"}', 'reason'],
    ['{"re\\u0061son":"forged","reason":"real"}', 'reason'],
    ['{"a":[{"b":1},{"b":2,"b":3}]}', 'a.1.b'],
    ['{"a":{"x":1},"b":{"x":1}}', null],
    ['{"a":"\\"a\\":","a\\"":1}', null],
    ['[1,{"k":"}"},{"k":1,"k":2}]', '2.k'],
  ])('%s -> %s', (text, expected) => {
    expect(duplicateMemberPath(text)).toBe(expected);
  });
});
