import { ValidationError } from '../errors';

/**
 * Paths of the C2SP tlog-tiles layout (https://c2sp.org/tlog-tiles), relative to the log's prefix:
 *
 *     tile/<L>/<N>[.p/<W>]        hashes of level L, tile N (full: 256 hashes; partial: W of them)
 *     tile/entries/<N>[.p/<W>]    entry bundle N: the block hashes of heights 256N .. 256N+255 (or W)
 *
 * `<L>` is 0..63 without leading zeros; `<N>` is written in 3-digit groups, all but the last prefixed
 * with `x` (1234067 is `x001/x234/067`); `<W>` is 1..255 without leading zeros.
 */

export const TILE_WIDTH = 256;
/** Tile indexes are kept below 2^53 / 256 so that every entry index stays a safe integer. */
const MAX_TILE_INDEX = Math.floor(Number.MAX_SAFE_INTEGER / TILE_WIDTH);

export interface TileResource {
  /** Hash level, or 'entries' for an entry bundle. */
  level: number | 'entries';
  index: number;
  /** Number of hashes or entries: 256 for a full tile, 1..255 for a partial one. */
  width: number;
}

/** The path of a tile or entry bundle, e.g. `tile/0/x001/234.p/5` or `tile/entries/000`. */
export function tilePath(tile: TileResource): string {
  let digits = String(tile.index).padStart(3, '0');
  while (digits.length % 3 !== 0) digits = `0${digits}`;
  const groups: string[] = [];
  for (let i = 0; i < digits.length; i += 3) groups.push(digits.slice(i, i + 3));
  const n = groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
  const level = tile.level === 'entries' ? 'entries' : String(tile.level);
  return `tile/${level}/${n}${tile.width < TILE_WIDTH ? `.p/${tile.width}` : ''}`;
}

function bad(segment: string, message: string): ValidationError {
  return new ValidationError(
    [{ field: `path segment ${JSON.stringify(segment)}`, message }],
    'malformed tile path',
  );
}

/**
 * Parses the segments after `tile/` (e.g. ['0', 'x001', '234.p', '5']). Throws ValidationError whose
 * field names the offending path segment, for a 400 answer.
 */
export function parseTileSegments(segments: readonly string[]): TileResource {
  if (segments.length < 2) throw bad(segments.join('/'), 'a tile path is tile/<L>/<N>[.p/<W>]');
  const [first, ...rest] = segments as [string, ...string[]];
  let level: number | 'entries';
  if (first === 'entries') level = 'entries';
  else if (/^(0|[1-9][0-9]?)$/.test(first) && Number(first) <= 63) level = Number(first);
  else throw bad(first, 'level must be "entries" or 0..63 without leading zeros');
  let width = TILE_WIDTH;
  let groups = rest;
  const partial = rest.findIndex((s) => s.endsWith('.p'));
  if (partial >= 0) {
    if (partial !== rest.length - 2) {
      throw bad(rest[partial]!, 'only the last index element may end in .p, followed by the width');
    }
    const w = rest[rest.length - 1]!;
    if (!/^[1-9][0-9]{0,2}$/.test(w) || Number(w) > 255) throw bad(w, 'partial width must be 1..255');
    width = Number(w);
    groups = [...rest.slice(0, partial), rest[partial]!.slice(0, -2)];
  }
  let digits = '';
  groups.forEach((g, i) => {
    const last = i === groups.length - 1;
    const ok = last ? /^[0-9]{3}$/.test(g) : /^x[0-9]{3}$/.test(g);
    if (!ok) {
      const shown = last && partial >= 0 ? `${g}.p` : g;
      throw bad(
        shown,
        last
          ? 'the last index element must be 3 digits'
          : 'index elements before the last must be x and 3 digits',
      );
    }
    digits += last ? g : g.slice(1);
  });
  if (groups.length > 1 && groups[0] === 'x000') throw bad(groups[0], 'the index has a leading zero group');
  const index = Number(digits);
  if (!Number.isSafeInteger(index) || index > MAX_TILE_INDEX)
    throw bad(groups.join('/'), 'tile index too large');
  return { level, index, width };
}
