import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { errorHandler, RETRY_AFTER_S, readJson } from '../../../http/errors';
import { SqliteLedgerStore } from '../../../lib/adapters/sqlite/sqlite-ledger-store';
import { SqliteTaskAcceptances } from '../../../lib/adapters/sqlite/sqlite-task-acceptances';
import { SqliteTaskQueue } from '../../../lib/adapters/sqlite/sqlite-task-queue';
import { DEFAULT_DIMENSIONS } from '../../../lib/model/resources';
import { systemClock } from '../../../lib/ports/clock';
import { Intake } from '../../../runtime/intake';

/**
 * The local 503: another connection holds SQLite's write lock past the intake's busy timeout (as a
 * long scheduler commit or an operator's sqlite3 shell can). The client is told to come back, and
 * nothing of the request is queued; once the lock goes, the same request is accepted whole.
 */
describe('POST /tasks while the store is locked', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  async function setup(maxQueueDepth = 1000) {
    const dir = await mkdtemp(join(tmpdir(), 'bcs-busy-'));
    const path = join(dir, 'ledger.db');
    const store = new SqliteLedgerStore(path, { busyTimeoutMs: 50 });
    const queue = new SqliteTaskQueue(store.db);
    const logs: string[] = [];
    const intake = new Intake({
      queue,
      acceptances: new SqliteTaskAcceptances(store.db),
      clock: systemClock,
      dimensions: DEFAULT_DIMENSIONS,
      maxQueueDepth,
      depthTtlMs: 0,
    });
    const app = new Hono();
    app.onError(errorHandler((m) => logs.push(m)));
    app.post('/tasks', async (c) => c.json(await intake.submitBody(await readJson(c)), 202));
    const other = new Database(path);
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    cleanup.push(() => store.db.close());
    cleanup.push(() => other.close());
    const post = async (ids: string[]) => {
      const body = ids.map((id) => ({ id, cpu: 1, mem: 1, deadline: 4_000_000_000, duration: 60 }));
      const res = await app.request('/tasks', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() };
    };
    const queued = () =>
      (other.prepare('SELECT task_id FROM queue ORDER BY seq').all() as { task_id: string }[]).map(
        (r) => r.task_id,
      );
    return { post, other, queued, logs };
  }

  it('503 with Retry-After and nothing queued; the same request is accepted once the lock is gone', async () => {
    const { post, other, queued, logs } = await setup();
    other.exec('BEGIN IMMEDIATE');
    const refused = await post(['a', 'b', 'c']);
    expect(refused.status).toBe(503);
    expect(refused.retryAfter).toBe(String(RETRY_AFTER_S));
    expect(refused.body.error).toBe('StoreUnavailableError');
    expect(refused.body.message).toContain('SQLITE_BUSY');
    expect(logs.join('\n')).toContain('store unavailable on POST /tasks');
    other.exec('ROLLBACK');
    expect(queued()).toEqual([]);

    const accepted = await post(['a', 'b', 'c']);
    expect(accepted).toMatchObject({ status: 202, body: { accepted: ['a', 'b', 'c'], duplicates: [] } });
    expect(queued()).toEqual(['a', 'b', 'c']);
  });

  it('a full queue is a 429 with Retry-After, checked before the store is written', async () => {
    const { post, queued } = await setup(3);
    expect((await post(['a', 'b'])).status).toBe(202);
    const full = await post(['c', 'd']);
    expect(full.status).toBe(429);
    expect(full.retryAfter).toBe(String(RETRY_AFTER_S));
    expect(queued()).toEqual(['a', 'b']);
  });

  it('an error that is not about availability stays a 500 that leaks nothing', async () => {
    const { post, other, logs } = await setup();
    other.exec('DROP TABLE queue');
    const res = await post(['a']);
    expect(res.status).toBe(500);
    expect(res.retryAfter).toBeNull();
    expect(res.body).toEqual({ error: 'InternalError', message: 'internal error' });
    expect(logs.join('\n')).toContain('internal error on POST /tasks');
  });
});
