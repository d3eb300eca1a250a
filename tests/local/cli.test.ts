import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyTransactionProof } from '../../lib/ledger/proofs';
import {
  eventually,
  postJson,
  type RunningServer,
  runCli,
  startServer,
  task,
  tempDir,
} from './helpers/server';

let dir: string;
let goodDb: string;
let txid: string;

/** A ledger with a few decisions and a completion, written by a real server and shut down cleanly. */
beforeAll(async () => {
  dir = await tempDir('bcs-cli-');
  const server = await startServer({ dataDir: dir, config: { seed: 3 } });
  await postJson(`${server.url}/tasks`, [
    task('a'),
    task('b'),
    task('c', { cpu: 1e9 }),
    task('d'),
    task('e'),
    task('f'),
  ]);
  const status = await eventually(async () => {
    const body = (await (await fetch(`${server.url}/tasks/f`)).json()) as Record<string, unknown>;
    return body.status === 'assigned' ? body : undefined;
  }, 'task f to be assigned');
  txid = status.transaction_id as string;
  await postJson(`${server.url}/tasks/a/complete`, {});
  expect(await server.stop()).toBe(0);
  goodDb = join(dir, 'ledger.db');
});

/** A copy of the good database changed with SQL, bypassing the store (as an attacker with file access would). */
async function alteredCopy(name: string, sql: string): Promise<string> {
  const path = join(dir, name);
  await copyFile(goodDb, path);
  const db = new Database(path);
  db.exec(sql);
  db.close();
  return path;
}

describe('bcs ledger verify', () => {
  it('exits 0 on a good database and prints a table', async () => {
    const result = await runCli(['ledger', 'verify', '--db', goodDb]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('ledger is valid');
  });

  it('exits 1 on a tampered copy and names the first bad block', async () => {
    const tampered = await alteredCopy(
      'tampered.db',
      `UPDATE blocks SET transactions = replace(transactions, '"cpu":100', '"cpu":1') WHERE height = 1`,
    );
    const result = await runCli(['ledger', 'verify', '--db', tampered, '--json']);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { valid: boolean; first_bad_height: number; problem: string };
    expect(report.valid).toBe(false);
    expect(report.first_bad_height).toBe(1);
    expect(report.problem).toBe('wrong-merkle-root');
  });

  it.each([
    ['a missing file', ['--db', '/nonexistent/ledger.db']],
    ['no source', []],
    ['two sources', ['--db', 'x.db', '--export', 'y.jsonl']],
    ['an unknown option', ['--dbx', 'x.db']],
  ])('exits 2 on %s', async (_name, args) => {
    const result = await runCli(['ledger', 'verify', ...args]);
    expect(result.code).toBe(2);
  });

  it('verifies an export file, and detects a rollback against a saved digest', async () => {
    const exported = join(dir, 'ledger.jsonl');
    const exportRun = await runCli(['ledger', 'export', '--db', goodDb, '--out', exported]);
    expect(exportRun.code).toBe(0);
    expect((await runCli(['ledger', 'verify', '--export', exported])).code).toBe(0);

    const digestFile = join(dir, 'digest.json');
    const digestRun = await runCli(['ledger', 'digest', '--db', goodDb, '--out', digestFile]);
    expect(digestRun.code).toBe(0);
    const digest = JSON.parse(await readFile(digestFile, 'utf8')) as { height: number; head_hash: string };
    expect(JSON.parse(digestRun.stdout)).toEqual(digest);
    expect((await runCli(['ledger', 'verify', '--db', goodDb, '--digest', digestFile])).code).toBe(0);

    // Dropping the last block leaves a valid but shorter chain: only the digest reveals it.
    const lines = (await readFile(exported, 'utf8')).trimEnd().split('\n');
    const rolledBack = join(dir, 'rolled-back.jsonl');
    await writeFile(rolledBack, `${lines.slice(0, -1).join('\n')}\n`);
    expect((await runCli(['ledger', 'verify', '--export', rolledBack])).code).toBe(0);
    const result = await runCli([
      'ledger',
      'verify',
      '--export',
      rolledBack,
      '--digest',
      digestFile,
      '--json',
    ]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).problem).toBe('digest-mismatch');
  });

  it('exits 1 naming the problem and the field for a digest file that is not a digest (format 2)', async () => {
    const bad = join(dir, 'not-a-digest.json');
    await writeFile(bad, JSON.stringify({ height: 'x' }));
    const result = await runCli(['ledger', 'verify', '--db', goodDb, '--digest', bad]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('malformed-digest');
    expect(result.stderr).toContain('height');
  });
});

describe('POST /ledger/verify on a tampered database', () => {
  it('answers valid false naming the first bad block, as the CLI does', async () => {
    const dataDir = await tempDir('bcs-tampered-');
    const tampered = await alteredCopy(
      'tampered-served.db',
      `UPDATE blocks SET transactions = replace(transactions, '"cpu":100', '"cpu":2') WHERE height = 2`,
    );
    await copyFile(tampered, join(dataDir, 'ledger.db'));
    const server = await startServer({ dataDir });
    try {
      const report = (await (await fetch(`${server.url}/ledger/verify`, { method: 'POST' })).json()) as {
        valid: boolean;
        first_bad_height: number;
        problem: string;
      };
      expect(report).toMatchObject({ valid: false, first_bad_height: 2, problem: 'wrong-merkle-root' });
    } finally {
      await server.stop();
    }
  });
});

describe('bcs ledger proof', () => {
  it('prints an inclusion proof that verifies; exit 1 for an unknown transaction', async () => {
    const result = await runCli(['ledger', 'proof', txid, '--db', goodDb]);
    expect(result.code).toBe(0);
    const proof = JSON.parse(result.stdout);
    expect(proof.transaction.task_id).toBe('f');
    expect(verifyTransactionProof(proof)).toBe(true);
    expect((await runCli(['ledger', 'proof', 'ffffffff', '--db', goodDb])).code).toBe(1);
  });
});

describe('bcs enqueue and --url sources', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('refuses a file with a bad line before sending anything, naming line and field', async () => {
    const file = join(dir, 'tasks-bad.jsonl');
    await writeFile(
      file,
      `${JSON.stringify(task('f-1'))}\n${JSON.stringify(task('f-2', { cpu: 'lots' }))}\n`,
    );
    const result = await runCli(['enqueue', '--url', server.url, '--file', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/line 2: cpu/);
    expect((await fetch(`${server.url}/tasks/f-1`)).status).toBe(404);
  });

  it('sends a JSON array file and generated tasks, then the ledger verifies over HTTP', async () => {
    const file = join(dir, 'tasks.json');
    await writeFile(file, JSON.stringify([task('g-1'), task('g-2')]));
    const fromFile = await runCli(['enqueue', '--url', server.url, '--file', file, '--json']);
    expect(fromFile.code).toBe(0);
    expect(JSON.parse(fromFile.stdout)).toMatchObject({ accepted: 2, duplicates: 0, requests: 1 });

    const generated = await runCli(['enqueue', '--url', server.url, '--count', '250', '--json']);
    expect(generated.code).toBe(0);
    expect(JSON.parse(generated.stdout)).toMatchObject({ accepted: 250, requests: 3 });

    const again = await runCli(['enqueue', '--url', server.url, '--file', file, '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ accepted: 0, duplicates: 2 });

    const verify = await runCli(['ledger', 'verify', '--url', server.url, '--json']);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout).valid).toBe(true);
  });

  it('exits 2 when the server cannot be reached', async () => {
    const result = await runCli(['ledger', 'verify', '--url', 'http://127.0.0.1:9']);
    expect(result.code).toBe(2);
  });
});
