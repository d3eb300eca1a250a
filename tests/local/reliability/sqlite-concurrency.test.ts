import { describe, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../../scripts/reliability/settings';
import { runSqliteSwarm } from '../../../scripts/reliability/sqlite-swarm';
import { summarise } from '../../../scripts/reliability/swarm-result';
import { expectSoundRun } from './expect-sound-run';

/**
 * Issue 5, load and concurrency on SQLite: eight scheduler processes, each with its own engine and
 * connection, append to one ledger file at once, 10,000 tasks between them, every tenth also given
 * to a second scheduler. `npm run reliability` runs the same three times and reports the spread.
 */
describe('eight schedulers on one SQLite chain', () => {
  it('commit 10,000 tasks with no fork, none lost or recorded twice, and no VM ever over capacity', async () => {
    const result = await runSqliteSwarm({ ...DEFAULT_SETTINGS, startedAt: Date.now() });
    console.log(JSON.stringify(summarise(result)));
    expectSoundRun(result);
  }, 180_000);
});
