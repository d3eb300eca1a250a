import { describe, expect, it } from 'vitest';
import { acceptTasks, TaskConflictError } from '../../lib/engine/task-intake';
import type { Task } from '../../lib/model/task';
import type { AcceptanceClaim, TaskAcceptances } from '../../lib/ports/task-acceptances';

/**
 * The contract every TaskAcceptances implementation meets (memory, SQLite, DynamoDB), and the
 * intake's accept path on top of it.
 */
export function taskAcceptancesContract(
  name: string,
  make: () => Promise<{ acceptances: TaskAcceptances; cleanup: () => Promise<void> }>,
  options: { timeout?: number } = {},
): void {
  const claim = (id: string, hash = 'a'): AcceptanceClaim => ({
    task_id: id,
    body_sha256: hash.repeat(64),
    accepted_at: 1_000,
  });
  const task = (id: string, cpu = 1): Task => ({
    id,
    requirements: { cpu, mem: 1 },
    duration: 60,
    deadline: 2_000_000_000,
    priority: 0,
    submittedAt: 1_000,
    labels: {},
    constraints: {},
  });
  const run = (body: (a: TaskAcceptances) => Promise<void>) => async () => {
    const { acceptances, cleanup } = await make();
    try {
      await body(acceptances);
    } finally {
      await cleanup();
    }
  };

  describe(`${name}: task acceptances`, { timeout: options.timeout ?? 30_000 }, () => {
    it(
      'a claim writes once; a second claim of the id answers the first record and changes nothing',
      run(async (a) => {
        expect(await a.claim([claim('x'), claim('y')])).toEqual(new Map());
        const again = await a.claim([claim('x', 'b'), claim('z')]);
        expect([...again.keys()]).toEqual(['x']);
        expect(again.get('x')).toEqual({ ...claim('x'), queued: false });
        expect(await a.get('x')).toEqual({ ...claim('x'), queued: false });
        expect(await a.get('z')).toEqual({ ...claim('z'), queued: false });
        expect(await a.get('nope')).toBeNull();
      }),
    );

    it(
      'concurrent claims of one id: exactly one writes',
      run(async (a) => {
        const answers = await Promise.all(['a', 'b', 'c', 'd'].map((h) => a.claim([claim('race', h)])));
        expect(answers.filter((m) => m.size === 0)).toHaveLength(1);
        const winner = await a.get('race');
        for (const m of answers) if (m.size > 0) expect(m.get('race')).toEqual(winner);
      }),
    );

    it(
      'markQueued sets queued (restoring a released claim); release removes only unqueued claims with the same hash',
      run(async (a) => {
        await a.claim([claim('q'), claim('r'), claim('s')]);
        await a.markQueued([claim('q')]);
        expect(await a.get('q')).toEqual({ ...claim('q'), queued: true });
        await a.release([claim('q'), claim('r', 'b'), claim('s')]);
        expect(await a.get('q')).toEqual({ ...claim('q'), queued: true });
        expect(await a.get('r')).toEqual({ ...claim('r'), queued: false });
        expect(await a.get('s')).toBeNull();
        await a.markQueued([claim('s')]);
        expect(await a.get('s')).toEqual({ ...claim('s'), queued: true });
        await a.markQueued([]);
        await a.release([]);
      }),
    );

    it(
      'acceptTasks: duplicates, a 409 that leaves nothing behind, a failed send queued again on retry',
      run(async (a) => {
        const sent: string[][] = [];
        const send =
          (refuse: string[] = []) =>
          async (tasks: Task[]) => {
            sent.push(tasks.map((t) => t.id));
            return {
              sent: tasks.filter((t) => !refuse.includes(t.id)).map((t) => t.id),
              failed: tasks.filter((t) => refuse.includes(t.id)).map((t) => ({ id: t.id, reason: 'no' })),
            };
          };
        const first = await acceptTasks([task('t1'), task('t2')], {
          acceptances: a,
          now: 5,
          send: send(['t2']),
        });
        expect(first).toMatchObject({
          accepted: ['t1'],
          duplicates: [],
          failed: [{ id: 't2', reason: 'no' }],
        });
        await expect(
          acceptTasks([task('t3'), task('t1', 2)], { acceptances: a, now: 6, send: send() }),
        ).rejects.toThrow(TaskConflictError);
        expect(await a.get('t3')).toBeNull();
        const retry = await acceptTasks([task('t1'), task('t2'), task('t2')], {
          acceptances: a,
          now: 7,
          send: send(),
        });
        expect(retry).toMatchObject({ accepted: ['t2'], duplicates: ['t1', 't2'], failed: [] });
        expect(sent).toEqual([['t1', 't2'], ['t2']]);
        expect(await a.get('t2')).toMatchObject({ queued: true, accepted_at: 5 });
      }),
    );
  });
}
