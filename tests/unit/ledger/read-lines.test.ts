import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readLines } from '../../../lib/ledger';

const tmp = mkdtempSync(join(tmpdir(), 'ledger-lines-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function linesOf(text: string): Promise<string[]> {
  const file = join(tmp, 'f.jsonl');
  writeFileSync(file, text);
  const out: string[] = [];
  for await (const line of readLines(file)) out.push(line);
  return out;
}

describe('readLines', () => {
  it('splits at "\\n" only, keeps a "\\r" before it for the caller, and yields a last line without "\\n"', async () => {
    expect(await linesOf('a\r\nb\n\nc')).toEqual(['a\r', 'b', '', 'c']);
    expect(await linesOf('a\n')).toEqual(['a']);
    expect(await linesOf('')).toEqual([]);
  });

  it('gives back exactly the lines of a multi-megabyte file whose characters straddle read chunks', async () => {
    // 1 MiB reads: lines of 2-, 3- and 4-byte characters land on every chunk boundary offset.
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.string({ unit: 'grapheme', maxLength: 300 }).map((s) => s.replaceAll('\n', '')),
          {
            minLength: 1,
            maxLength: 40,
          },
        ),
        fc.integer({ min: 300, max: 2000 }),
        async (pieces, repeat) => {
          const lines = Array.from({ length: repeat }, (_, i) => `é𝄞€${pieces[i % pieces.length]!}`);
          expect(await linesOf(`${lines.join('\n')}\n`)).toEqual(lines);
        },
      ),
      { numRuns: 8, seed: 15 },
    );
  });
});
