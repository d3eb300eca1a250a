import { createReadStream } from 'node:fs';
import { ValidationError } from '../errors';
import { blockSchema } from './blocks';
import { canonicalString } from './canonical';
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
 * Parses JSON Lines into blocks, validating each line with blockSchema. Empty lines (and a trailing "\r")
 * are skipped. Throws ValidationError naming the 1-based line number and the field; the lines before it
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
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new ValidationError(
        [{ field: '', message: `not JSON: ${(error as Error).message}` }],
        `line ${lineNumber}`,
      );
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
 * (numberedValues does). With `range`, only those bytes are read. Splitting 1 MiB chunks costs about half of what node:readline does per line,
 * which showed in a million-transaction verify.
 */
export async function* readLines(path: string, range?: ByteRange): AsyncIterable<string> {
  let rest = '';
  const stream = createReadStream(path, {
    encoding: 'utf8',
    highWaterMark: 1 << 20,
    // createReadStream's end is inclusive.
    ...(range ? { start: range.start, end: range.end - 1 } : {}),
  });
  for await (const chunk of stream) {
    const lines = (rest + (chunk as string)).split('\n');
    rest = lines.pop()!;
    yield* lines;
  }
  if (rest !== '') yield rest;
}

/** Blocks of a JSON Lines export on disk, validated line by line. */
export function readJsonlFile(path: string): AsyncIterable<Block> {
  return parseJsonl(readLines(path));
}
