import Database from 'better-sqlite3';
import type { Block } from '../../ledger/types';

/**
 * Schema migrations, applied in order; `PRAGMA user_version` holds how many have run. Append only:
 * a released migration is never edited, a change is a new entry.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE blocks (
    height INTEGER PRIMARY KEY,
    block_hash TEXT NOT NULL UNIQUE,
    header TEXT NOT NULL,
    transactions TEXT NOT NULL
  );
  CREATE TABLE transactions (
    transaction_id TEXT PRIMARY KEY,
    height INTEGER NOT NULL,
    idx INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE head (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    height INTEGER NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE TABLE tasks (
    task_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    vm_id TEXT,
    block_height INTEGER NOT NULL,
    transaction_id TEXT NOT NULL,
    requirements TEXT NOT NULL,
    deadline REAL NOT NULL,
    duration REAL NOT NULL,
    lease_expires_at INTEGER,
    updated_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX tasks_by_lease ON tasks (lease_expires_at, task_id) WHERE status = 'assigned';
  CREATE TABLE reservations (
    vm_id TEXT PRIMARY KEY,
    reserved TEXT NOT NULL,
    active_tasks INTEGER NOT NULL,
    capacity TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL UNIQUE,
    task TEXT NOT NULL,
    visible_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    receipt TEXT
  );
  CREATE INDEX queue_by_visibility ON queue (visible_at, seq);
  `,
  `
  CREATE TABLE queue_dead_letters (
    seq INTEGER PRIMARY KEY,
    task_id TEXT NOT NULL,
    task TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    error TEXT NOT NULL,
    failed_at INTEGER NOT NULL
  );
  `,
  // Persistent Merkle state (docs/ledger-format.md "Stored Merkle tiles"); filled from the blocks by
  // SqliteLedgerStore when a database written before it is opened.
  `
  CREATE TABLE merkle_tiles (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hashes BLOB NOT NULL,
    PRIMARY KEY (level, idx)
  ) WITHOUT ROWID;
  CREATE TABLE tree_head (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    tile_height INTEGER NOT NULL,
    height INTEGER NOT NULL,
    hash TEXT NOT NULL,
    tree_size INTEGER NOT NULL,
    frontier BLOB NOT NULL,
    head_timestamp TEXT NOT NULL,
    transactions INTEGER NOT NULL,
    assigned INTEGER NOT NULL,
    rejected INTEGER NOT NULL,
    completed INTEGER NOT NULL,
    expired INTEGER NOT NULL
  );
  CREATE TABLE vm_counts (
    vm_id TEXT PRIMARY KEY,
    assigned INTEGER NOT NULL,
    completed INTEGER NOT NULL,
    expired INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // Each block's transaction total through its height (the digest's transaction_count there), so that a
  // digest at a past height is one row read (docs/ledger-format.md "Stored Merkle tiles"); existing rows
  // are filled in one pass.
  `
  ALTER TABLE blocks ADD COLUMN transaction_total INTEGER;
  UPDATE blocks SET transaction_total = totals.total
    FROM (SELECT height, SUM(json_array_length(transactions)) OVER (ORDER BY height) AS total FROM blocks) AS totals
    WHERE blocks.height = totals.height;
  `,
  // The intake's acceptance records (lib/ports/task-acceptances.ts): idempotency by id and body hash,
  // and GET /tasks/{id} `queued`.
  `
  CREATE TABLE acceptances (
    task_id TEXT PRIMARY KEY,
    body_sha256 TEXT NOT NULL,
    accepted_at INTEGER NOT NULL,
    queued INTEGER NOT NULL CHECK (queued IN (0, 1))
  ) WITHOUT ROWID;
  `,
  // GPU devices kept between batches (lib/ports/ledger-store.ts): the devices an assignment took, so its
  // closing releases exactly those, and the milli-GPU reserved per device of each VM (JSON arrays; NULL
  // for none, as every row written before).
  `
  ALTER TABLE tasks ADD COLUMN devices TEXT;
  ALTER TABLE reservations ADD COLUMN gpus TEXT;
  `,
  // Ledger format 3's `failed` closings (docs/ledger-format.md 2.5), counted like the other statuses;
  // a chain written before it has none.
  `
  ALTER TABLE tree_head ADD COLUMN failed INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE vm_counts ADD COLUMN failed INTEGER NOT NULL DEFAULT 0;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export type Synchronous = 'FULL' | 'NORMAL';

export interface SqliteOptions {
  /**
   * FULL (default) fsyncs the WAL at every commit: a committed decision survives power loss, which
   * an audit ledger whose entries clients have already seen must. NORMAL survives process crashes
   * (kill -9) but may lose the last commits on power loss; ledger and queue share one file and roll
   * back together, so a lost commit's tasks are still queued and get decided again.
   */
  synchronous?: Synchronous;
  /** How long a writer waits for another connection's lock, ms. Default 10 000. */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating if needed) a ledger database: WAL so readers never block the writer and several
 * connections (threads, processes) can share the file, busy_timeout so contending writers wait for
 * the lock instead of failing, migrations under an exclusive write lock so concurrent openers agree.
 */
export function openLedgerDatabase(
  path: string,
  genesis: Block,
  options: SqliteOptions = {},
): Database.Database {
  const db = new Database(path, { timeout: options.busyTimeoutMs ?? 10_000 });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
    migrate(db, genesis);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function migrate(db: Database.Database, genesis: Block): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(`ledger database schema ${version} is newer than this build's ${SCHEMA_VERSION}`);
    }
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    if (version !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
    const head = db.prepare('SELECT height, hash FROM head WHERE id = 0').get() as
      | { height: number; hash: string }
      | undefined;
    if (head === undefined) {
      db.prepare(
        'INSERT INTO blocks (height, block_hash, header, transactions, transaction_total) VALUES (?, ?, ?, ?, ?)',
      ).run(
        genesis.height,
        genesis.block_hash,
        headerJson(genesis),
        JSON.stringify(genesis.transactions),
        genesis.transactions.length,
      );
      db.prepare('INSERT INTO head (id, height, hash) VALUES (0, ?, ?)').run(
        genesis.height,
        genesis.block_hash,
      );
    } else {
      const stored = db.prepare('SELECT block_hash FROM blocks WHERE height = 0').get() as {
        block_hash: string;
      };
      if (stored.block_hash !== genesis.block_hash) {
        throw new Error(`ledger database genesis ${stored.block_hash} differs from ${genesis.block_hash}`);
      }
    }
  }).immediate();
}

/** The header as stored: exactly the fields the block hash commits to. */
export function headerJson(block: Block): string {
  return JSON.stringify({
    height: block.height,
    timestamp: block.timestamp,
    previous_hash: block.previous_hash,
    merkle_root: block.merkle_root,
    transaction_count: block.transaction_count,
  });
}
