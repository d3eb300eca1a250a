import { type ChildProcess, spawn } from 'node:child_process';
import { copyFile, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ed25519NoteKey, LocalKeySigner } from '../../lib/adapters/local-key';
import { ecdsaVerifierKeyOf } from '../../lib/ledger/checkpoint';
import { CHECKPOINT_KEY_FILE } from '../../runtime/tlog-publishing';
import {
  eventually,
  postJson,
  type RunningServer,
  runCli,
  startServer,
  task,
  tempDir,
} from './helpers/server';
import { buildTlogClients, run, TLOG_BIN } from './helpers/tlog';

/**
 * Witnessing with a real witness this project did not write: litewitness (filippo.io/torchwood
 * v0.6.1, built from the Go module proxy by scripts/tlog/setup.sh) on loopback, its key held by an
 * ssh-agent (tests/tlog `agent`). The log submits each checkpoint over C2SP tlog-witness and serves
 * the cosignature; `bcs ledger verify --witness --quorum` and the Go client accept it. Then a rolled
 * back and forked copy of the ledger (same keys, same origin, another history) is refused by the
 * witness, counted, and scheduling goes on; a witness that is down is counted too.
 */

const BIN = TLOG_BIN;
const ORIGIN = 'example.test/bcs-witnessed';
const WITNESS_NAME = 'example.test/litewitness';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Spawns `file` and resolves once its output matches `ready`, with the match. */
function startProcess(
  file: string,
  args: string[],
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) resolve({ child, match });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}:\n${output}`)));
  });
}

const children: ChildProcess[] = [];
const servers: RunningServer[] = [];
let witnessUrl: string;
let witnessKey: string;
let keysDir: string;
let logKey: string;

interface Tlog {
  witnesses: {
    name: string;
    url: string;
    tree_size: number;
    cosigned: number;
    failures: number;
    last_error: string | null;
  }[];
}

async function tlogOf(server: RunningServer): Promise<Tlog> {
  return (await (await fetch(`${server.url}/ledger/tlog`)).json()) as Tlog;
}

beforeAll(async () => {
  const setup = await buildTlogClients();
  expect(setup.code, setup.stderr).toBe(0);
  const dir = await tempDir('bcs-witness-');
  // The log's keys first, so that the witness knows the log before the log starts.
  keysDir = join(dir, 'keys');
  await mkdir(keysDir, { mode: 0o700 });
  const edKey = await Ed25519NoteKey.open(join(keysDir, CHECKPOINT_KEY_FILE));
  logKey = await ecdsaVerifierKeyOf(ORIGIN, await LocalKeySigner.open(join(keysDir, 'digest-key.pem')));
  const db = join(dir, 'witness.db');
  const ctl = join(BIN, 'witnessctl');
  expect((await run(ctl, ['add-log', '-db', db, '-origin', ORIGIN])).code).toBe(0);
  const added = await run(ctl, ['add-key', '-db', db, '-origin', ORIGIN, '-key', edKey.verifierKey(ORIGIN)]);
  expect(added.code, added.stderr).toBe(0);
  const socket = join(dir, 'agent.sock');
  const agent = await startProcess(join(BIN, 'tlogcheck'), ['agent', '-socket', socket], /(SHA256:\S+)\n/);
  const port = await freePort();
  const witness = await startProcess(
    join(BIN, 'litewitness'),
    [
      '-db',
      db,
      '-name',
      WITNESS_NAME,
      '-key',
      agent.match[1]!,
      '-ssh-agent',
      socket,
      '-listen',
      `127.0.0.1:${port}`,
    ],
    /vkey=(\S+)[\s\S]*listening/,
  );
  witnessKey = witness.match[1]!;
  witnessUrl = `http://127.0.0.1:${port}`;
}, 25 * 60_000);

afterAll(async () => {
  for (const s of servers) await s.stop();
  for (const c of children) c.kill('SIGTERM');
});

/** bcs ledger verify --url with the log key and `extra` flags. */
function verifyCli(url: string, ...extra: string[]) {
  return runCli(['ledger', 'verify', '--url', url, '--log-key', logKey, ...extra]);
}

/** A bcs start whose data directory holds the prepared keys, submitting to `witnesses`. */
async function startLog(witnesses: { url: string; key: string }[]): Promise<RunningServer> {
  const dataDir = await tempDir('bcs-witnessed-');
  for (const file of ['digest-key.pem', CHECKPOINT_KEY_FILE])
    await copyFile(join(keysDir, file), join(dataDir, file));
  const server = await startServer({
    dataDir,
    config: {
      fleet: { size: 2 },
      block_size: 1,
      checkpoint_interval_ms: 200,
      checkpoint_origin: ORIGIN,
      witnesses,
    },
  });
  servers.push(server);
  return server;
}

async function reject(server: RunningServer, prefix: string, count: number): Promise<void> {
  const tasks = Array.from({ length: count }, (_, i) => task(`${prefix}-${i}`, { cpu: 999_999_999 }));
  expect((await postJson(`${server.url}/tasks`, tasks)).status).toBe(202);
}

async function decidedHeight(server: RunningServer, atLeast: number): Promise<number> {
  return eventually(
    async () => {
      const d = (await (await fetch(`${server.url}/ledger/digest`)).json()) as { height: number };
      return d.height >= atLeast ? d.height : undefined;
    },
    `height ${atLeast}`,
    600,
    200,
  );
}

describe('witnesses over C2SP tlog-witness (litewitness)', { timeout: 300_000 }, () => {
  let honestSize = 0;

  it('gets the checkpoint cosigned; bcs ledger verify and the Go client accept it with a quorum of 1', async () => {
    const log = await startLog([{ url: witnessUrl, key: witnessKey }]);
    await reject(log, 'h', 20);
    await decidedHeight(log, 20);
    const note = await eventually(
      async () => {
        const text = await (await fetch(`${log.url}/checkpoint`)).text();
        return Number(text.split('\n')[1]) >= 21 && text.includes(`— ${WITNESS_NAME} `) ? text : undefined;
      },
      'a cosigned checkpoint of 21 blocks',
      600,
      200,
    );
    honestSize = Number(note.split('\n')[1]);
    const status = (await tlogOf(log)).witnesses[0]!;
    expect(status).toMatchObject({ name: WITNESS_NAME, failures: 0 });
    expect(status.cosigned).toBeGreaterThan(0);

    const verified = await verifyCli(log.url, '--witness', witnessKey, '--quorum', '1');
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stderr).toContain(`cosigned by ${WITNESS_NAME}`);
    const go = await run(join(BIN, 'tlogcheck'), [
      'verify',
      '-url',
      log.url,
      '-vkey',
      logKey,
      '-witness',
      witnessKey,
      '-quorum',
      '1',
      '-samples',
      '3',
    ]);
    expect(go.code, go.stderr).toBe(0);
    expect(JSON.parse(go.stdout).cosignatures).toContain(WITNESS_NAME);

    // Without the witness's key nothing counts towards the quorum.
    const noWitness = await verifyCli(log.url, '--quorum', '0');
    expect(noWitness.code).toBe(0);
    const otherKey = witnessKey.replace(/^[^+]+/, 'example.test/another');
    const wrong = await verifyCli(log.url, '--witness', otherKey);
    expect(wrong.code).toBe(2); // the key id no longer matches the name: a bad flag
    await log.stop();
  });

  it('refuses a rolled-back and then forked ledger; a down witness is counted; scheduling goes on', async () => {
    expect(honestSize).toBeGreaterThan(0);
    const deadPort = await freePort();
    const fork = await startLog([
      { url: witnessUrl, key: witnessKey },
      { url: `http://127.0.0.1:${deadPort}`, key: witnessKey.replace(/^[^+]+/, 'example.test/down') },
    ]).catch((error: Error) => error);
    // The second key's id does not match its name: the configuration is refused, naming the field.
    expect(fork).toBeInstanceOf(Error);
    expect(String(fork)).toContain('witnesses.1.key');

    const forked = await startLog([
      { url: witnessUrl, key: witnessKey },
      { url: `http://127.0.0.1:${deadPort}`, key: witnessKey },
    ]);
    // Rolled back: the forked copy starts shorter than what the witness cosigned.
    await reject(forked, 'f', 3);
    await decidedHeight(forked, 3);
    const rolledBack = await eventually(
      async () => {
        const w = (await tlogOf(forked)).witnesses;
        return w[0]!.failures > 0 && w[1]!.failures > 0 ? w : undefined;
      },
      'failures counted for both witnesses',
      600,
      200,
    );
    expect(rolledBack[0]!.last_error).toMatch(
      new RegExp(`cosigned size ${honestSize}.*rolled back or forked`),
    );
    expect(rolledBack[1]!.last_error).toMatch(/fetch failed|ECONNREFUSED/);
    expect(rolledBack[0]!.cosigned).toBe(0);

    // Forked: past the cosigned size with another history. The witness checks the consistency proof
    // from its size against its own root and answers 422.
    await reject(forked, 'g', honestSize + 5);
    const height = await decidedHeight(forked, honestSize + 5);
    const forkedStatus = await eventually(
      async () => {
        const w = (await tlogOf(forked)).witnesses[0]!;
        return w.last_error?.includes('HTTP 422') ? w : undefined;
      },
      'the witness refusing the fork',
      600,
      200,
    );
    expect(forkedStatus.cosigned).toBe(0);
    const note = await (await fetch(`${forked.url}/checkpoint`)).text();
    expect(Number(note.split('\n')[1])).toBeGreaterThan(honestSize);
    expect(note).not.toContain(`— ${WITNESS_NAME} `);
    // Scheduling went on regardless: every task was decided.
    expect(height).toBeGreaterThanOrEqual(honestSize + 8);
    const refused = await verifyCli(forked.url, '--witness', witnessKey);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/no-quorum/);
  });
});
