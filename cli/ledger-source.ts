import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { SqliteLedgerStore } from '../lib/adapters/sqlite';
import { verifiableBlocks } from '../lib/engine/verifiable-blocks';
import { parseOrThrow } from '../lib/errors';
import { blockSchema } from '../lib/ledger/blocks';
import { jsonlValues, parseJsonl, readLines } from '../lib/ledger/jsonl';
import type { Block, ChainHead, Digest } from '../lib/ledger/types';
import { CliExit, EXIT_USAGE } from './exit';
import { authFlagsGiven, openRemote, type RemoteFlags } from './remote';
import { publishedDigest, remoteBlocks } from './remote-ledger';

export interface SourceFlags extends RemoteFlags {
  db?: string;
  export?: string;
}

/** Blocks from wherever the auditor has them, and the head the source claims, when it has one. */
export interface LedgerSource {
  /** Validated blocks, for commands that pass them on (export). */
  blocks: AsyncIterable<Block>;
  /** The same chain not yet validated, for the verifier, which validates each block once itself. */
  unchecked: AsyncIterable<unknown>;
  head: ChainHead | null;
  /** The digest a server published for `head` (--url): the verified chain must reproduce it. */
  published: Digest | null;
  close(): Promise<void>;
}

type SourceKind = 'db' | 'export' | 'url';

/** Exactly one of the allowed sources, and authentication flags only with --url (a usage error otherwise). */
export function chooseSource(flags: SourceFlags, allowed: readonly SourceKind[]): SourceKind {
  // --stack names the URL of a deployed stack: it is the url source too.
  const given = allowed.filter((k) => flags[k] !== undefined || (k === 'url' && flags.stack !== undefined));
  const names = allowed.flatMap((k) => (k === 'url' ? ['--url', '--stack'] : [`--${k}`]));
  if (given.length !== 1 || (flags.url !== undefined && flags.stack !== undefined)) {
    throw new CliExit(EXIT_USAGE, `give exactly one of ${names.join(', ')}`);
  }
  const auth = authFlagsGiven(flags);
  if (given[0] !== 'url' && auth.length > 0)
    throw new CliExit(EXIT_USAGE, `${auth[0]} needs --url or --stack`);
  return given[0]!;
}

export async function openLedgerSource(
  flags: SourceFlags,
  allowed: readonly SourceKind[],
): Promise<LedgerSource> {
  const kind = chooseSource(flags, allowed);
  if (kind === 'db') return openDb(flags.db!);
  if (kind === 'export') {
    await mustExist(flags.export!);
    return {
      blocks: parseJsonl(lazyLines(flags.export!)),
      unchecked: jsonlValues(lazyLines(flags.export!)),
      head: null,
      published: null,
      close: async () => undefined,
    };
  }
  const remote = await openRemote(flags);
  // The digest first: its head bounds the pages, so blocks appended meanwhile are left out.
  const published = await publishedDigest(remote);
  return {
    blocks: validated(remoteBlocks(remote, published.height)),
    unchecked: remoteBlocks(remote, published.height),
    head: { height: published.height, hash: published.head_hash },
    published,
    close: async () => undefined,
  };
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
  return {
    blocks: verifiableBlocks(store, head.height),
    // A row the store cannot parse is reported as malformed at its height, not thrown.
    unchecked: verifiableBlocks(store, head.height),
    head,
    published: null,
    close: () => store.close(),
  };
}

/** Opens the file only when iterated: a command reads one of the two views of a source, never both. */
async function* lazyLines(path: string): AsyncGenerator<string> {
  yield* readLines(path);
}

async function* validated(values: AsyncIterable<unknown>): AsyncGenerator<Block> {
  let position = 0;
  for await (const value of values) {
    yield parseOrThrow(blockSchema, value, `block ${position}`);
    position += 1;
  }
}

export async function mustExist(path: string): Promise<void> {
  try {
    await access(path, constants.R_OK);
  } catch {
    throw new CliExit(EXIT_USAGE, `cannot read ${path}`);
  }
}

/** GET a route of a running server with an optional bearer token; network failures and non-2xx answers are I/O errors (exit 2). */
export async function request(baseUrl: string, path: string, token?: string): Promise<Response> {
  return (await openRemote({ url: baseUrl, ...(token === undefined ? {} : { token }) })).get(path);
}
