import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeySigner } from '../../lib/adapters/local-key';
import { checkpointText, ecdsaNoteSigner } from '../../lib/ledger/checkpoint';
import { signNote } from '../../lib/ledger/signed-note';
import { eventually, postJson, type RunningServer, startServer, task } from './helpers/server';
import { buildTlogClients, type Run, run, TLOG_BIN } from './helpers/tlog';

/**
 * The local runtime's ledger read by a transparency-log client this project did not write the
 * libraries of: tests/tlog/main.go (golang.org/x/mod/sumdb/note + tlog, transparency-dev/formats,
 * filippo.io/torchwood), built from the modules pinned in tests/tlog/go.sum by scripts/tlog/setup.sh.
 * It checks the checkpoint's ECDSA P-256 note signature, that the served tiles hash to its root,
 * inclusion of random blocks (entries = block hashes) and consistency between two checkpoints taken
 * before and after more scheduling; and it refuses a forged checkpoint signed by the same key.
 */

const BIN = TLOG_BIN;

interface Report {
  origin: string;
  tree_size: number;
  root_hash: string;
  extensions: string[];
  samples: { index: number; entry: string }[];
  consistency_from?: number;
}

let server: RunningServer;
let vkey: string;

beforeAll(async () => {
  const setup = await buildTlogClients();
  expect(setup.code, setup.stderr).toBe(0);
  server = await startServer({
    config: { fleet: { size: 2 }, block_size: 1, checkpoint_interval_ms: 200, seed: 5 },
  });
  const tlog = (await (await fetch(`${server.url}/ledger/tlog`)).json()) as { verifier_keys: string[] };
  vkey = tlog.verifier_keys[0]!;
}, 25 * 60_000);

afterAll(async () => {
  await server?.stop();
});

/** Tasks no VM can hold: each is rejected at once, one block each (block_size 1). */
async function rejectMany(prefix: string, count: number): Promise<void> {
  const tasks = Array.from({ length: count }, (_, i) => task(`${prefix}-${i}`, { cpu: 999_999_999 }));
  expect((await postJson(`${server.url}/tasks`, tasks)).status).toBe(202);
}

/** Waits for a published checkpoint of at least `size` leaves; returns its size. */
async function checkpointOfAtLeast(size: number): Promise<number> {
  return eventually(
    async () => {
      const text = await (await fetch(`${server.url}/checkpoint`)).text();
      const n = Number(text.split('\n')[1]);
      return n >= size ? n : undefined;
    },
    `a checkpoint of ${size} blocks`,
    600,
    200,
  );
}

/** tlogcheck verify against the server with the log's key and `extra` flags. */
function verifyLog(...extra: string[]): Promise<Run> {
  return run(join(BIN, 'tlogcheck'), ['verify', '-url', server.url, '-vkey', vkey, ...extra]);
}

async function blockHash(height: number): Promise<string> {
  const page = (await (await fetch(`${server.url}/ledger/blocks?from=${height}&limit=1`)).json()) as {
    blocks: { block_hash: string }[];
  };
  return page.blocks[0]!.block_hash;
}

describe('the ledger as a tiled transparency log, checked by Go clients', { timeout: 300_000 }, () => {
  it('verifies the signature, the tiles, inclusion of random blocks and consistency across more scheduling', async () => {
    // Past one full level-0 tile (256 leaves), so full and partial tiles are both read.
    await rejectMany('a', 300);
    const firstSize = await checkpointOfAtLeast(301);
    const saved = join(server.dataDir, 'checkpoint-1.txt');
    const first = await verifyLog('-samples', '12', '-save', saved);
    expect(first.code, first.stderr).toBe(0);
    const report = JSON.parse(first.stdout) as Report;
    expect(report.tree_size).toBeGreaterThanOrEqual(firstSize);
    expect(report.origin).toBe(vkey.split('+')[0]);
    expect(report.samples).toHaveLength(12);
    for (const s of report.samples) expect(s.entry).toBe(await blockHash(s.index));
    expect(report.extensions).toContain(`bcs-head ${await blockHash(report.tree_size - 1)}`);
    const fullTile = new Uint8Array(await (await fetch(`${server.url}/tile/0/000`)).arrayBuffer());
    expect(fullTile.length).toBe(256 * 32);

    await rejectMany('b', 60);
    await checkpointOfAtLeast(report.tree_size + 60);
    const second = await verifyLog('-samples', '6', '-old', saved);
    expect(second.code, second.stderr).toBe(0);
    const later = JSON.parse(second.stdout) as Report;
    expect(later.consistency_from).toBe(report.tree_size);
    expect(later.tree_size).toBeGreaterThanOrEqual(report.tree_size + 60);
    // A full tile never changes as the log grows.
    const again = new Uint8Array(await (await fetch(`${server.url}/tile/0/000`)).arrayBuffer());
    expect(Buffer.from(again).equals(Buffer.from(fullTile))).toBe(true);

    // A fork: a checkpoint of the first size with another root, signed by the log's own key. The
    // client proves the current tree inconsistent with it and refuses.
    const forgedText = checkpointText({
      origin: report.origin,
      tree_size: report.tree_size,
      root_hash: 'ab'.repeat(32),
      extensions: [],
    });
    const key = await LocalKeySigner.open(join(server.dataDir, 'digest-key.pem'));
    const forged = join(server.dataDir, 'forged.txt');
    await writeFile(forged, await signNote(forgedText, [await ecdsaNoteSigner(report.origin, key)]));
    const refused = await verifyLog('-old', forged);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/not consistent/);

    // A checkpoint whose text was changed after signing fails the signature check.
    const tampered = join(server.dataDir, 'tampered.txt');
    await writeFile(
      tampered,
      (await readFile(saved, 'utf8')).replace(/\n\d+\n/, `\n${report.tree_size - 1}\n`),
    );
    const badSig = await verifyLog('-old', tampered);
    expect(badSig.code).toBe(1);
    expect(badSig.stderr).toMatch(/signature/);
  });

  it('answers a malformed tile path with a 400 naming the path segment, and a tile not there yet with a 404', async () => {
    const bad = await fetch(`${server.url}/tile/0/x1/000`);
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { issues: { field: string }[] };
    expect(body.issues[0]!.field).toBe('path segment "x1"');
    expect((await fetch(`${server.url}/tile/entries/000.p/256`)).status).toBe(400);
    expect((await fetch(`${server.url}/tile/0/x999/999`)).status).toBe(404);
  });
});
