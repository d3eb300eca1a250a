import { createReadStream } from 'node:fs';
import { ValidationError } from '../errors';
import { blockSchema } from './blocks';
import { canonicalString } from './canonical';
import { duplicateMemberPath } from './json-duplicates';
import type { Block } from './types';

/**
 * JSON Lines export (https://jsonlines.org): one block per line, ascending height, genesis first, each
 * line the block's RFC 8785 canonical JSON followed by "\n". Canonical lines make the file byte-for-byte
 * reproducible from the same chain, so two exports can be compared with a plain file hash.
 */
export async function* exportJsonl(blocks: AsyncIterable<Block> | Iterable<Block>): AsyncIterable<string> {
  for await (const block of blocks) yield `${canonicalString(block)}\n`;
}

/**
 * Parses JSON Lines into blocks, validating each line with blockSchema. Empty lines are skipped (after
 * removing one trailing "\r"); any other line must be one JSON value with unique member names. Throws ValidationError naming the 1-based line number and the field; the lines before it
 * have already been yielded, so a streaming verifier reports the first bad line as the first bad block.
 */
export async function* parseJsonl(lines: AsyncIterable<string> | Iterable<string>): AsyncIterable<Block> {
  for await (const { value, lineNumber } of numberedValues(lines)) {
    const parsed = blockSchema.safeParse(value);
    if (!parsed.success) throw ValidationError.fromZod(parsed.error, `line ${lineNumber}`);
    yield parsed.data;
  }
}

/**
 * The JSON values of the non-empty lines, not yet validated: for verifyChain, which validates each block
 * itself, so a verifier reading an export pays for schema validation once instead of twice.
 */
export async function* jsonlValues(lines: AsyncIterable<string> | Iterable<string>): AsyncIterable<unknown> {
  for await (const { value } of numberedValues(lines)) yield value;
}

async function* numberedValues(
  lines: AsyncIterable<string> | Iterable<string>,
): AsyncIterable<{ value: unknown; lineNumber: number }> {
  let lineNumber = 0;
  for await (const raw of lines) {
    lineNumber += 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    // Only an empty line is skipped: a line of spaces is not JSON, and "whitespace" differs between
    // languages (JavaScript's trim removes U+FEFF, Python's strip removes U+001C), so skipping it would
    // let two verifiers read different chains (docs/ledger-format.md section 6.1).
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new ValidationError(
        [{ field: '', message: `not JSON: ${(error as Error).message}` }],
        `line ${lineNumber}`,
      );
    }
    // A canonical line is what JSON.stringify writes back, which never repeats a name: one native call
    // clears it; only other lines pay for the scan.
    if (JSON.stringify(value) !== line) {
      const duplicate = duplicateMemberPath(line);
      if (duplicate !== null) {
        throw new ValidationError(
          [{ field: duplicate, message: 'duplicate member name (names must be unique in every object)' }],
          `line ${lineNumber}`,
        );
      }
    }
    yield { value, lineNumber };
  }
}

/**
 * Bytes [start, end) of a file. A range that starts and ends at line boundaries decodes as UTF-8 on its
 * own: "\n" never occurs inside a multi-byte sequence.
 */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The lines of a UTF-8 text file, streamed (constant memory whatever the file size, but for the longest
 * line). Lines end at "\n" as JSON Lines defines them; a "\r" before it is left for the caller to strip
 * (numberedValues does). With `range`, only those bytes are read. Bytes that are not UTF-8 throw a
 * ValidationError naming the line (counted from the start of the range), after the lines before it
 * have been yielded, so a streaming verifier reports the block on that line as malformed rather than
 * hashing U+FFFD replacement characters. Splitting 1 MiB chunks costs about half of what node:readline
 * does per line, which showed in a million-transaction verify.
 */
export async function* readLines(path: string, range?: ByteRange): AsyncIterable<string> {
  let rest: Buffer = Buffer.alloc(0);
  let lineNumber = 0;
  const stream = createReadStream(path, {
    highWaterMark: 1 << 20,
    // createReadStream's end is inclusive.
    ...(range ? { start: range.start, end: range.end - 1 } : {}),
  });
  for await (const chunk of stream) {
    const bytes = rest.length === 0 ? (chunk as Buffer) : Buffer.concat([rest, chunk as Buffer]);
    const end = bytes.lastIndexOf(0x0a);
    if (end < 0) {
      rest = bytes;
      continue;
    }
    // Complete lines only: "\n" never occurs inside a multi-byte sequence, so they decode on their own.
    const { lines, error } = decodeLines(bytes.subarray(0, end), lineNumber);
    yield* lines;
    if (error) throw error;
    lineNumber += lines.length;
    rest = Buffer.from(bytes.subarray(end + 1));
  }
  if (rest.length > 0) {
    const { lines, error } = decodeLines(rest, lineNumber);
    yield* lines;
    if (error) throw error;
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The "\n"-separated lines of `bytes`, decoded as UTF-8; when the bytes are not UTF-8, the lines before
 * the first bad one and a ValidationError naming it.
 */
function decodeLines(bytes: Uint8Array, linesBefore: number): { lines: string[]; error?: ValidationError } {
  try {
    return { lines: strictUtf8.decode(bytes).split('\n') };
  } catch {
    // Rare: find the bad line, line by line.
  }
  const lines: string[] = [];
  for (let start = 0; ; ) {
    const nl = bytes.indexOf(0x0a, start);
    try {
      lines.push(strictUtf8.decode(bytes.subarray(start, nl < 0 ? bytes.length : nl)));
    } catch {
      const error = new ValidationError(
        [{ field: '', message: 'not UTF-8 (invalid byte sequence)' }],
        `line ${linesBefore + lines.length + 1}`,
      );
      return { lines, error };
    }
    if (nl < 0) return { lines };
    start = nl + 1;
  }
}

/** Blocks of a JSON Lines export on disk, validated line by line. */
export function readJsonlFile(path: string): AsyncIterable<Block> {
  return parseJsonl(readLines(path));
}
