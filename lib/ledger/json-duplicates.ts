/**
 * Duplicate member names in JSON text (docs/ledger-format.md section 6.1). JSON.parse keeps the last of
 * two members with the same name and Python's json keeps the last too, but other parsers keep the first:
 * a line `{"reason":"forged",...,"reason":"real"}` would then show "forged" under valid hashes. RFC 8785
 * input has unique names (RFC 8259 section 4 "SHOULD", I-JSON RFC 7493 "MUST"), so a verifier refuses
 * such text rather than pick one.
 *
 * Hand-written rather than a JSON AST library (e.g. @humanwhocodes/momoa): it runs only on text that
 * JSON.parse has already accepted, so it needs no grammar, error recovery or positions, only strings,
 * brackets and commas; it is about forty lines against a parser of thousands, and it is exercised by
 * tests/unit/ledger/json-duplicates.test.ts against a brute-force oracle on generated JSON.
 */

interface Frame {
  /** Member names seen so far, or null for an array. */
  names: Set<string> | null;
  /** Path of this container from the root, for the message. */
  path: string;
  /** Array index of the element being read, for the path. */
  index: number;
  /** The member name being read, for the path. */
  member: string;
}

/**
 * The dotted path of the first member whose name repeats one earlier in the same object (names compared
 * after unescaping, so `"a"` and `"\u0061"` are the same), or null when every object's names are unique.
 * `text` must be one JSON value JSON.parse accepts; other input gives an unspecified answer.
 */
export function duplicateMemberPath(text: string): string | null {
  const frames: Frame[] = [];
  let expectName = false;
  const childPath = (top: Frame | undefined): string => {
    if (top === undefined) return '';
    const step = top.names === null ? String(top.index) : top.member;
    return top.path === '' ? step : `${top.path}.${step}`;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      const top = frames.at(-1);
      if (expectName && top?.names) {
        const raw = text.slice(i, j + 1);
        const name: string = raw.includes('\\') ? JSON.parse(raw) : raw.slice(1, -1);
        top.member = name;
        if (top.names.has(name)) return childPath(top);
        top.names.add(name);
        expectName = false;
      }
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const top = frames.at(-1);
      frames.push({ names: c === 0x7b ? new Set() : null, path: childPath(top), index: 0, member: '' });
      expectName = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      frames.pop();
    } else if (c === 0x2c /* , */) {
      const top = frames.at(-1)!;
      if (top.names === null) top.index += 1;
      else expectName = true;
    }
  }
  return null;
}
