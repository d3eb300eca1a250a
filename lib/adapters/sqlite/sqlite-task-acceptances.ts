import type Database from 'better-sqlite3';
import type { Acceptance, AcceptanceClaim, TaskAcceptances } from '../../ports/task-acceptances';
import { unlessUnavailable } from './unavailable';

interface Row {
  task_id: string;
  body_sha256: string;
  accepted_at: number;
  queued: number;
}

/**
 * The local runtime's acceptance records, in the ledger's database file (table `acceptances`,
 * lib/adapters/sqlite/schema.ts). Each call is one transaction.
 */
export class SqliteTaskAcceptances implements TaskAcceptances {
  private readonly claimAll;
  private readonly markAll;
  private readonly releaseAll;
  private readonly select;

  constructor(readonly db: Database.Database) {
    const insert = db.prepare(
      'INSERT INTO acceptances (task_id, body_sha256, accepted_at, queued) VALUES (?, ?, ?, 0) ON CONFLICT (task_id) DO NOTHING',
    );
    this.select = db.prepare<[string], Row>(
      'SELECT task_id, body_sha256, accepted_at, queued FROM acceptances WHERE task_id = ?',
    );
    const upsert = db.prepare(
      'INSERT INTO acceptances (task_id, body_sha256, accepted_at, queued) VALUES (?, ?, ?, 1) ' +
        'ON CONFLICT (task_id) DO UPDATE SET body_sha256 = excluded.body_sha256, accepted_at = excluded.accepted_at, queued = 1',
    );
    const remove = db.prepare('DELETE FROM acceptances WHERE task_id = ? AND body_sha256 = ? AND queued = 0');
    this.claimAll = db.transaction((claims: readonly AcceptanceClaim[]) => {
      const existing = new Map<string, Acceptance>();
      for (const c of claims) {
        if (insert.run(c.task_id, c.body_sha256, c.accepted_at).changes > 0) continue;
        const row = this.select.get(c.task_id);
        if (row) existing.set(c.task_id, fromRow(row));
      }
      return existing;
    });
    this.markAll = db.transaction((claims: readonly AcceptanceClaim[]) => {
      for (const c of claims) upsert.run(c.task_id, c.body_sha256, c.accepted_at);
    });
    this.releaseAll = db.transaction((claims: readonly AcceptanceClaim[]) => {
      for (const c of claims) remove.run(c.task_id, c.body_sha256);
    });
  }

  async claim(claims: readonly AcceptanceClaim[]): Promise<Map<string, Acceptance>> {
    return unlessUnavailable(() => this.claimAll(claims));
  }

  async markQueued(claims: readonly AcceptanceClaim[]): Promise<void> {
    if (claims.length > 0) unlessUnavailable(() => this.markAll(claims));
  }

  async release(claims: readonly AcceptanceClaim[]): Promise<void> {
    if (claims.length > 0) unlessUnavailable(() => this.releaseAll(claims));
  }

  async get(taskId: string): Promise<Acceptance | null> {
    const row = this.select.get(taskId);
    return row ? fromRow(row) : null;
  }
}

function fromRow(row: Row): Acceptance {
  return {
    task_id: row.task_id,
    body_sha256: row.body_sha256,
    accepted_at: row.accepted_at,
    queued: row.queued === 1,
  };
}
