import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ed25519NoteKey, LocalKeySigner } from '../../../lib/adapters/local-key';
import { checkpointOf, checkpointText, ecdsaNoteSigner } from '../../../lib/ledger/checkpoint';
import { blockLeafHash } from '../../../lib/ledger/digest';
import { fromHex } from '../../../lib/ledger/hash';
import { signNote } from '../../../lib/ledger/signed-note';
import { appendLeaves, emptyFrontier } from '../../../lib/ledger/tiles';

/**
 * docs/ledger-format.md section 12.5 against the code: the worked example's checkpoint text and tile
 * bytes, and its openssl block run as written on a checkpoint signed by both log keys.
 */

const section = async () => {
  const doc = await readFile('docs/ledger-format.md', 'utf8');
  return doc.slice(doc.indexOf('### 12.5 Worked example'));
};

const example = JSON.parse(await readFile('tests/vectors/ledger-example.json', 'utf8'));

describe('docs/ledger-format.md section 12.5', () => {
  it('shows the checkpoint text of the example chain at height 2', async () => {
    const digest = example.digest_height_2;
    const text = checkpointText(checkpointOf('example.com/ledger', digest));
    const block = /```\n([\s\S]*?)```/.exec(await section());
    expect(block?.[1]).toBe(text);
  });

  it('states the level-0 tile as the block leaf hashes', () => {
    const hashes = [example.genesis.block_hash, example.block1.block_hash, example.block2.block_hash];
    const { appends } = appendLeaves(emptyFrontier(), hashes.map(blockLeafHash));
    expect(appends).toHaveLength(1);
    expect(appends[0]!.hashes.map((h) => Buffer.from(h).toString('hex'))).toEqual(example.block_leaf_hashes);
    expect(Buffer.from(fromHex(example.digest_height_2.blocks_root)).toString('base64')).toBe(
      '2eUfpvSB8bQkaeX8FIolh+Ouiyhk77J4OI3RzSuw6RA=',
    );
  });
});

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

describe.runIf(hasOpenssl)('the documented openssl check of a checkpoint signature', () => {
  let dir: string;
  let note: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bcs-checkpoint-'));
    const signer = await LocalKeySigner.open(join(dir, 'digest-key.pem'));
    const ed = await Ed25519NoteKey.open(join(dir, 'ed.pem'));
    await writeFile(join(dir, 'key.pem'), await signer.publicKeyPem());
    const origin = 'example.com/ledger';
    // The Ed25519 line first: the documented loop must skip it.
    note = await signNote(checkpointText(checkpointOf(origin, example.digest_height_2)), [
      ed.signer(origin),
      await ecdsaNoteSigner(origin, signer),
    ]);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const runBlock = async (checkpoint: string) => {
    await writeFile(join(dir, 'checkpoint'), checkpoint);
    const block = /```sh\n([\s\S]*?)```/.exec(await section());
    return spawnSync('bash', ['-e', '-o', 'pipefail', '-c', block![1]!], { cwd: dir, encoding: 'utf8' });
  };

  it('verifies, and prints the key ID of the ECDSA line', async () => {
    const result = await runBlock(note);
    expect(result.status, result.stderr).toBe(0);
    const ecdsaLine = note.trimEnd().split('\n').at(-1)!;
    const id = Buffer.from(ecdsaLine.split(' ').at(-1)!, 'base64').subarray(0, 4).toString('hex');
    expect(result.stdout.trim()).toBe(id);
  });

  it('fails on a changed checkpoint', async () => {
    const result = await runBlock(note.replace('bcs-transactions 3', 'bcs-transactions 4'));
    expect(result.status).not.toBe(0);
  });
});
