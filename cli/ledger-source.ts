import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { SqliteLedgerStore } from '../lib/adapters/sqlite';
import { parseJsonl, readLines } from '../lib/ledger/jsonl';
import type { Block, ChainHead } from '../lib/ledger/types';
import { blocksFromStore } from '../runtime/store-blocks';
import { CliExit, EXIT_USAGE } from './exit';

export interface SourceFlags {
  db?: string;
  export?: string;
  url?: string;
  token?: string;
}

/** Blocks from wherever the auditor has them, and the head the source claims, when it has one. */
export interface LedgerSource {
  blocks: AsyncIterable<Block>;
  /** The raw JSON Lines when the source is an export (file or HTTP): a verifier validates each block once. */
  lines: AsyncIterable<string> | null;
  head: ChainHead | null;
  close(): Promise<void>;
}

/** Exactly one of --db, --export, --url (a usage error otherwise). */
export async function openLedgerSource(
  flags: SourceFlags,
  allowed: ('db' | 'export' | 'url')[],
): Promise<LedgerSource> {
  const given = allowed.filter((k) => flags[k] !== undefined);
  if (given.length !== 1) {
    throw new CliExit(EXIT_USAGE, `give exactly one of ${allowed.map((k) => `--${k}`).join(', ')}`);
  }
  if (flags.db !== undefined) return openDb(flags.db);
  if (flags.export !== undefined) {
    await mustExist(flags.export);
    const lines = readLines(flags.export);
    return { blocks: parseJsonl(lines), lines, head: null, close: async () => undefined };
  }
  const response = await request(flags.url!, '/ledger/export', flags.token);
  if (!response.body) throw new CliExit(EXIT_USAGE, 'empty response from /ledger/export');
  const lines = createInterface({ input: Readable.fromWeb(response.body as never), crlfDelay: Infinity });
  return { blocks: parseJsonl(lines), lines, head: null, close: async () => undefined };
}

/** The store itself, for commands that need random access (proofs). The file must exist: opening never creates one. */
export async function openDbStore(path: string): Promise<SqliteLedgerStore> {
  await mustExist(path);
  try {
    return new SqliteLedgerStore(path);
  } catch (error) {
    throw new CliExit(EXIT_USAGE, `cannot open ${path} as a ledger database: ${(error as Error).message}`);
  }
}

async function openDb(path: string): Promise<LedgerSource> {
  const store = await openDbStore(path);
  const head = await store.readHead();
  return { blocks: blocksFromStore(store, head.height), lines: null, head, close: () => store.close() };
}

async function mustExist(path: string): Promise<void> {
  try {
    await access(path, constants.R_OK);
  } catch {
    throw new CliExit(EXIT_USAGE, `cannot read ${path}`);
  }
}

/** GET a route of a running server; network failures and non-2xx answers are I/O errors (exit 2). */
export async function request(baseUrl: string, path: string, token?: string): Promise<Response> {
  let url: URL;
  try {
    url = new URL(path, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  } catch {
    throw new CliExit(EXIT_USAGE, `not a URL: ${baseUrl}`);
  }
  let response: Response;
  try {
    response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch (error) {
    throw new CliExit(EXIT_USAGE, `cannot reach ${url.origin}: ${(error as Error).message}`);
  }
  if (!response.ok) {
    throw new CliExit(EXIT_USAGE, `${url.pathname}: HTTP ${response.status} ${await response.text()}`);
  }
  return response;
}
