import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SchedulerError } from '../lib/errors';

/** The lock file in the data directory: a small SQLite database used only for its file lock. */
export const LOCK_FILE = 'runtime.lock';

/** Another `bcs start` holds this data directory. */
export class DataDirLockedError extends SchedulerError {
  override name = 'DataDirLockedError';
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder | null,
  ) {
    super(
      holder
        ? `data directory ${dataDir} is in use by bcs start pid ${holder.pid} on ${holder.hostname} (since ${holder.started_at}); ` +
            'stop that process, or give this one another --data-dir (one bcs start per data directory)'
        : `data directory ${dataDir} is in use by another bcs start (starting up); ` +
            'stop it, or give this one another --data-dir (one bcs start per data directory)',
    );
  }
}

export interface LockHolder {
  pid: number;
  hostname: string;
  started_at: string;
}

/**
 * One `bcs start` per data directory. Several would each take the queue for their own: a restart
 * releases every task in flight, including those a live peer holds, adding a delivery to each
 * (issue 21). So the runtime holds this lock for its whole life and a second start refuses, naming
 * the holder's pid.
 *
 * The lock is SQLite's own RESERVED lock on `runtime.lock`, held by a write transaction left open:
 * a POSIX advisory lock, which the kernel drops when the process ends however it ends, SIGKILL
 * included, so a dead holder never leaves a stale lock to clean up and the next start simply takes
 * it (no pid-liveness guessing, no race between two starts taking over one stale lock). Readers are
 * not blocked by a RESERVED lock, which lets the refused start read who holds it. Hand-written on
 * better-sqlite3, which the runtime already depends on, rather than a lock-file package that
 * detects staleness by age.
 */
export class DataDirLock {
  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
  ) {}

  /** Takes the lock or throws DataDirLockedError naming the holder. */
  static acquire(dataDir: string): DataDirLock {
    const path = join(dataDir, LOCK_FILE);
    const db = new Database(path, { timeout: 0 });
    try {
      // Take the lock, record who holds it, commit so that others can read it, and take it again at
      // once. A start that slips in between wins, and this one is refused naming it.
      hold(db, dataDir);
      db.exec(
        'CREATE TABLE IF NOT EXISTS holder (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, hostname TEXT NOT NULL, started_at TEXT NOT NULL)',
      );
      db.prepare('INSERT OR REPLACE INTO holder (id, pid, hostname, started_at) VALUES (1, ?, ?, ?)').run(
        process.pid,
        hostname(),
        new Date().toISOString(),
      );
      // A refused start reading the holder keeps the commit waiting a moment; never long.
      db.pragma('busy_timeout = 5000');
      db.exec('COMMIT');
      db.pragma('busy_timeout = 0');
      hold(db, dataDir);
      return new DataDirLock(db, path);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Who holds the lock on `dataDir`, as recorded; null when nobody ever did. */
  static holder(dataDir: string): LockHolder | null {
    const db = new Database(join(dataDir, LOCK_FILE), { timeout: 1000, readonly: true, fileMustExist: true });
    try {
      return readHolder(db);
    } finally {
      db.close();
    }
  }

  /** Gives the lock back (the open transaction ends with nothing written). */
  release(): void {
    if (!this.db.open) return;
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    this.db.close();
  }
}

function hold(db: Database.Database, dataDir: string): void {
  try {
    db.exec('BEGIN IMMEDIATE');
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_BUSY') {
      throw new DataDirLockedError(dataDir, readHolder(db));
    }
    throw error;
  }
}

function readHolder(db: Database.Database): LockHolder | null {
  try {
    return (
      (db.prepare('SELECT pid, hostname, started_at FROM holder WHERE id = 1').get() as LockHolder) ?? null
    );
  } catch {
    return null;
  }
}
