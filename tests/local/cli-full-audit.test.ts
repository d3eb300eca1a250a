import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalString } from '../../lib/ledger';
import { buildChain, clone, sampleTransactions } from '../unit/ledger/helpers/transactions';
import {
  eventually,
  postJson,
  type RunningServer,
  runCli,
  startServer,
  task,
  tempDir,
} from './helpers/server';

/** `bcs ledger verify --full` against the local runtime (a job it polls), a ledger.db and an export. */
let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ config: { fleet: { size: 4 }, seed: 5 } });
  expect((await postJson(`${server.url}/tasks`, [task('f-1'), task('f-2'), task('f-3')])).status).toBe(202);
  await eventually(async () => {
    const body = (await (await fetch(`${server.url}/tasks/f-3`)).json()) as { status?: string };
    return body.status === 'queued' || body.status === undefined ? undefined : body.status;
  }, 'f-3 decided');
});
afterAll(async () => {
  await server.stop();
});

describe('bcs ledger verify --full', { timeout: 120_000 }, () => {
  it('with --url starts the job on the server, polls it and prints its report', async () => {
    const result = await runCli(['ledger', 'verify', '--full', '--url', server.url, '--json']);
    expect(result.stderr).toMatch(/full audit [0-9a-f-]{36} started/);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      valid: boolean;
      height: number;
      digest: { tree_size: number };
    };
    expect(report.valid).toBe(true);
    expect(report.digest.tree_size).toBe(report.height + 1);
  });

  it('with --db verifies the ledger file on worker threads, as the sequential verify does', async () => {
    const db = join(server.dataDir, 'ledger.db');
    const full = await runCli(['ledger', 'verify', '--full', '--db', db, '--json']);
    expect(full.code).toBe(0);
    const report = JSON.parse(full.stdout) as {
      valid: boolean;
      height: number;
      digest: { blocks_root: string };
    };
    expect(report.valid).toBe(true);
    // The same tree as the digest the sequential pass computes (the chain is idle: nothing is queued).
    const sequential = JSON.parse((await runCli(['ledger', 'digest', '--db', db])).stdout) as {
      blocks_root: string;
      height: number;
    };
    expect(sequential.height).toBe(report.height);
    expect(report.digest.blocks_root).toBe(sequential.blocks_root);
  });

  it('with --export names a tampered block (exit 1), and passes the untouched export', async () => {
    const dir = await tempDir('bcs-full-');
    const chain = buildChain(sampleTransactions(60, 4), 3);
    const good = join(dir, 'good.jsonl');
    await writeFile(good, chain.map((b) => `${canonicalString(b)}\n`).join(''));
    expect((await runCli(['ledger', 'verify', '--full', '--export', good])).code).toBe(0);
    const bad = clone(chain);
    bad[7]!.transactions[0]!.reason = 'rewritten';
    const badPath = join(dir, 'bad.jsonl');
    await writeFile(badPath, bad.map((b) => `${canonicalString(b)}\n`).join(''));
    const result = await runCli(['ledger', 'verify', '--full', '--export', badPath, '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      valid: false,
      first_bad_height: 7,
      problem: 'wrong-merkle-root',
    });
  });

  it('refuses --full with --consistency (usage, exit 2)', async () => {
    const result = await runCli([
      'ledger',
      'verify',
      '--full',
      '--digest',
      'a.json',
      '--consistency',
      'b.json',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--full/);
  });
});
