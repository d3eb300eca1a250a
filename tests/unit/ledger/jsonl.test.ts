import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors';
import {
  canonicalString,
  exportJsonl,
  parseJsonl,
  readJsonlFile,
  readLines,
  verifyChain,
  verifyJsonl,
  verifyJsonlFile,
} from '../../../lib/ledger';
import type { Block } from '../../../lib/ledger/types';
import { buildChain, sampleTransactions } from './helpers/transactions';

const chain = buildChain(sampleTransactions(12, 5), 5);

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

async function* from<T>(items: T[]): AsyncIterable<T> {
  yield* items;
}

const tmp = mkdtempSync(join(tmpdir(), 'ledger-jsonl-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('exportJsonl', () => {
  it('writes one canonical block per line, genesis first', async () => {
    const lines = await collect(exportJsonl(from(chain)));
    expect(lines).toEqual(chain.map((b) => `${canonicalString(b)}\n`));
    expect(lines.every((l) => l.indexOf('\n') === l.length - 1)).toBe(true);
  });
});

describe('parseJsonl', () => {
  it('round-trips an export, from a file too, into a chain that verifies', async () => {
    const text = (await collect(exportJsonl(chain))).join('');
    const parsed = await collect(parseJsonl(text.split('\n')));
    expect(parsed).toEqual(chain);
    const file = join(tmp, 'chain.jsonl');
    writeFileSync(file, text.replaceAll('\n', '\r\n'));
    expect(await collect(readJsonlFile(file))).toEqual(chain);
    expect(await verifyChain(readJsonlFile(file))).toMatchObject({ valid: true, height: chain.length - 1 });
  });

  it('skips empty lines and still counts them, but a line of spaces is not JSON', async () => {
    const lines = ['', canonicalString(chain[0]), '\r', '{"height":'];
    await expect(collect(parseJsonl(lines))).rejects.toThrow(/^line 4: not JSON/);
    const spaces = ['', canonicalString(chain[0]), '   ', '{"height":'];
    await expect(collect(parseJsonl(spaces))).rejects.toThrow(/^line 3: not JSON/);
  });

  it('names the line number and the field of an invalid block', async () => {
    const bad = JSON.parse(canonicalString(chain[2])) as Block;
    (bad.transactions[1] as unknown as Record<string, unknown>).score = 'high';
    const lines = [canonicalString(chain[0]), canonicalString(chain[1]), JSON.stringify(bad)];
    const error = await collect(parseJsonl(lines)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toMatch(/^line 3: transactions\.1\.score: /);
    expect((error as ValidationError).issues[0]!.field).toBe('transactions.1.score');
  });

  it('yields the good lines before the bad one, so verifyChain names the bad line as the bad block', async () => {
    const lines = [canonicalString(chain[0]), canonicalString(chain[1]), '[]'];
    const report = await verifyChain(parseJsonl(lines));
    expect(report).toMatchObject({
      valid: false,
      problem: 'malformed',
      first_bad_height: 2,
      blocks_checked: 2,
    });
    expect(report.detail).toMatch(/^line 3/);
  });
});

describe('verifyJsonl', () => {
  it('verifies an export on disk, streamed, with the same report as verifyChain', async () => {
    const file = join(tmp, 'verify.jsonl');
    writeFileSync(file, (await collect(exportJsonl(chain))).join(''));
    const last = chain[chain.length - 1]!;
    const report = await verifyJsonlFile(file, {
      expectedHead: { height: last.height, hash: last.block_hash },
    });
    expect(report).toEqual(await verifyChain(chain));
    expect(report.valid).toBe(true);
  });

  it('names the line that is not JSON, and the block position of an invalid one', async () => {
    const good = chain.map((b) => canonicalString(b));
    const notJson = await verifyJsonl([good[0]!, '', good[1]!, '{oops']);
    expect(notJson).toMatchObject({ valid: false, problem: 'malformed', first_bad_height: 2 });
    expect(notJson.detail).toMatch(/^line 4: not JSON/);
    const invalid = await verifyJsonl([good[0]!, good[1]!, good[2]!.replace('"height":2', '"height":"2"')]);
    expect(invalid).toMatchObject({ valid: false, problem: 'malformed', first_bad_height: 2 });
    expect(invalid.detail).toMatch(/^block 2: height: /);
  });
});

describe('readLines on bytes that are not UTF-8', () => {
  it('yields the lines before the bad one, then names its line, across 1 MiB chunks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'read-lines-utf8-'));
    try {
      const path = join(dir, 'bad.jsonl');
      const long = 'x'.repeat(700_000);
      // Line 3 holds a lone 0xff, past the first 1 MiB chunk; line 4 is fine again.
      writeFileSync(
        path,
        Buffer.concat([
          Buffer.from(`"${long}"\n"é ${long}"\n"a`),
          Buffer.from([0xff]),
          Buffer.from('b"\n"after"\n'),
        ]),
      );
      const seen: string[] = [];
      const read = async () => {
        for await (const line of readLines(path)) seen.push(line);
      };
      await expect(read()).rejects.toThrow(/^line 3: not UTF-8/);
      expect(seen.map((l) => l.length)).toEqual([700_002, 700_004]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
