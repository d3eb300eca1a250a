import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SignedDigest, verifySignedDigest } from '../../../lib/ledger/signed-digest';
import {
  eventually,
  postJson,
  type RunningServer,
  runCli,
  startServer,
  task,
} from '../../local/helpers/server';

/**
 * Signed digests end to end on the local runtime: the server's key file, GET /ledger/digest?signed=1 and
 * /ledger/public-key, and `bcs ledger digest --sign`, `public-key`, `verify --digest --public-key`.
 */

let server: RunningServer;
let dir: string;
let db: string;
let served: SignedDigest;
let servedKey: string;

beforeAll(async () => {
  server = await startServer({ config: { seed: 5 } });
  dir = server.dataDir;
  await postJson(`${server.url}/tasks`, [task('a'), task('b'), task('c')]);
  await eventually(async () => {
    const body = (await (await fetch(`${server.url}/tasks/c`)).json()) as { status: string };
    return body.status === 'assigned' ? body : undefined;
  }, 'task c to be assigned');
  served = (await (await fetch(`${server.url}/ledger/digest?signed=1`)).json()) as SignedDigest;
  servedKey = await (await fetch(`${server.url}/ledger/public-key`)).text();
  db = join(dir, 'ledger.db');
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

describe('the local runtime signs digests', () => {
  it('keeps its key in the data directory, readable by its owner only, and names only the path in its log', async () => {
    const path = join(dir, 'digest-key.pem');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(server.stderr()).toContain(`created the digest signing key ${path}`);
    const secretLine = (await readFile(path, 'utf8')).split('\n')[1]!;
    expect(server.stderr()).not.toContain(secretLine);
  });

  it('serves a signed digest of its head that checks with the key it serves', async () => {
    const plain = (await (await fetch(`${server.url}/ledger/digest`)).json()) as Record<string, unknown>;
    expect(served).toMatchObject({
      height: plain.height,
      head_hash: plain.head_hash,
      blocks_root: plain.blocks_root,
    });
    expect(verifySignedDigest(served, servedKey)).toMatchObject({ valid: true, key_id: served.key_id });
  });

  it('refuses a malformed signed flag, naming it', async () => {
    const res = await fetch(`${server.url}/ledger/digest?signed=yes`);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('signed');
  });
});

// Each CLI run is a fresh Node process (about 1-2 s on a loaded 2-core machine).
const CLI_TIMEOUT = 60_000;

describe('bcs ledger signing commands', () => {
  it(
    'public-key --url and --db give the same key',
    async () => {
      const remote = await runCli(['ledger', 'public-key', '--url', server.url]);
      const local = await runCli(['ledger', 'public-key', '--db', db]);
      expect([remote.code, local.code]).toEqual([0, 0]);
      expect(remote.stdout).toBe(servedKey);
      expect(local.stdout).toBe(servedKey);
    },
    CLI_TIMEOUT,
  );

  it(
    'digest --sign (server or local key) is accepted by verify --digest --public-key; a changed one exits 1',
    async () => {
      const keyFile = join(dir, 'public.pem');
      await writeFile(keyFile, servedKey);
      const fromServer = join(dir, 'signed-remote.json');
      const fromDb = join(dir, 'signed-local.json');
      expect(
        (await runCli(['ledger', 'digest', '--url', server.url, '--sign', '--out', fromServer])).code,
      ).toBe(0);
      expect((await runCli(['ledger', 'digest', '--db', db, '--sign', '--out', fromDb])).code).toBe(0);
      for (const file of [fromServer, fromDb]) {
        const ok = await runCli(['ledger', 'verify', '--db', db, '--digest', file, '--public-key', keyFile]);
        expect(ok.stderr).toBe('');
        expect(ok.code).toBe(0);
      }
      const signed = JSON.parse(await readFile(fromDb, 'utf8')) as SignedDigest;
      const forged = join(dir, 'forged.json');
      await writeFile(forged, JSON.stringify({ ...signed, transaction_count: signed.transaction_count + 1 }));
      const bad = await runCli(['ledger', 'verify', '--db', db, '--digest', forged, '--public-key', keyFile]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('does not verify');
    },
    CLI_TIMEOUT,
  );

  it(
    'a signed digest without --public-key is used but flagged; --public-key with an unsigned digest exits 2',
    async () => {
      const signedFile = join(dir, 'served.json');
      await writeFile(signedFile, JSON.stringify(served));
      const unchecked = await runCli(['ledger', 'verify', '--db', db, '--digest', signedFile]);
      expect(unchecked.code).toBe(0);
      expect(unchecked.stderr).toContain('signature is not checked');

      const plain = join(dir, 'plain.json');
      expect((await runCli(['ledger', 'digest', '--db', db, '--out', plain])).code).toBe(0);
      const keyFile = join(dir, 'public.pem');
      const usage = await runCli([
        'ledger',
        'verify',
        '--db',
        db,
        '--digest',
        plain,
        '--public-key',
        keyFile,
      ]);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toContain('not a signed digest');
    },
    CLI_TIMEOUT,
  );
});

describe('consistency proofs through the CLI', () => {
  it(
    'bcs ledger consistency serves a proof that verify --digest old.json --consistency accepts, and refuses a forged one',
    async () => {
      const old = join(dir, 'old-digest.json');
      expect((await runCli(['ledger', 'digest', '--url', server.url, '--out', old])).code).toBe(0);
      const oldDigest = JSON.parse(await readFile(old, 'utf8')) as { tree_size: number };
      await postJson(`${server.url}/tasks`, [task('later')]);
      await eventually(async () => {
        const body = (await (await fetch(`${server.url}/tasks/later`)).json()) as { status?: string };
        return body.status === 'assigned' ? body : undefined;
      }, 'task later to be assigned');
      const newer = join(dir, 'new-digest.json');
      expect((await runCli(['ledger', 'digest', '--url', server.url, '--out', newer])).code).toBe(0);
      const newDigest = JSON.parse(await readFile(newer, 'utf8')) as { tree_size: number };
      expect(newDigest.tree_size).toBeGreaterThan(oldDigest.tree_size);

      const proofFile = join(dir, 'consistency.json');
      const served = await runCli([
        'ledger',
        'consistency',
        '--url',
        server.url,
        '--from',
        `${oldDigest.tree_size}`,
        '--to',
        `${newDigest.tree_size}`,
        '--out',
        proofFile,
      ]);
      expect(served.code, served.stderr).toBe(0);
      const verify = (proof: string) =>
        runCli([
          'ledger',
          'verify',
          '--digest',
          old,
          '--consistency',
          proof,
          '--new-digest',
          newer,
          '--json',
        ]);
      const ok = await verify(proofFile);
      expect(ok.code, ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, to: { tree_size: newDigest.tree_size } });

      const proof = JSON.parse(await readFile(proofFile, 'utf8')) as { proof: string[] };
      const forged = join(dir, 'forged-consistency.json');
      await writeFile(forged, JSON.stringify({ ...proof, proof: proof.proof.map(() => '0'.repeat(64)) }));
      const bad = await verify(forged);
      expect(bad.code).toBe(1);
      expect(JSON.parse(bad.stdout)).toMatchObject({ valid: false, problem: 'inconsistent-with-digest' });

      const fromDb = await runCli(['ledger', 'consistency', '--db', db, '--from', '1']);
      expect(fromDb.code, fromDb.stderr).toBe(0);
      const outOfRange = await runCli(['ledger', 'consistency', '--db', db, '--from', '0']);
      expect(outOfRange.code).toBe(2);
      expect(outOfRange.stderr).toContain('from');
    },
    CLI_TIMEOUT * 3,
  );

  it(
    'a malformed digest file exits 1 naming malformed-digest, not 2',
    async () => {
      const cases = [
        '{"height": 1,',
        JSON.stringify({ ...served, key_id: undefined }),
        JSON.stringify(served).replace('{"height"', '{"height":0,"height"'),
        JSON.stringify({ ...served, signature: served.signature.replace(/=+$/, '') }),
      ];
      const keyFile = join(dir, 'served-key.pem');
      await writeFile(keyFile, servedKey);
      for (const [i, text] of cases.entries()) {
        const file = join(dir, `malformed-${i}.json`);
        await writeFile(file, text);
        const run = await runCli(['ledger', 'verify', '--db', db, '--digest', file, '--public-key', keyFile]);
        expect(run.code, `${text}: ${run.stderr}`).toBe(1);
        expect(run.stderr).toContain('malformed-digest');
      }
    },
    CLI_TIMEOUT * 2,
  );
});
