import { describe, expect, it } from 'vitest';
import { enqueueHandler, MAX_BODY_BYTES } from '../../../functions/handlers/enqueue';
import { MemoryTaskAcceptances } from '../../../lib/adapters/memory/memory-task-acceptances';
import type { Task } from '../../../lib/model/task';
import { ManualClock } from '../../../lib/ports/clock';
import type { SendResult, TaskSender } from '../../../lib/ports/task-sender';
import { queueMessageSchema } from '../../../lib/schemas/queue-message';
import { apiEvent } from './helpers/events';
import { DIMENSIONS, T0 } from './helpers/fixtures';

class FakeSender implements TaskSender {
  readonly sent: Task[][] = [];
  constructor(private readonly refuse: ReadonlySet<string> = new Set()) {}
  async send(tasks: readonly Task[]): Promise<SendResult> {
    this.sent.push([...tasks]);
    return {
      sent: tasks.filter((t) => !this.refuse.has(t.id)).map((t) => t.id),
      failed: tasks.filter((t) => this.refuse.has(t.id)).map((t) => ({ id: t.id, reason: 'Throttled' })),
    };
  }
}

function setup(refuse: string[] = [], acceptances = new MemoryTaskAcceptances()) {
  const sender = new FakeSender(new Set(refuse));
  let n = 0;
  const handler = enqueueHandler({
    sender,
    acceptances,
    dimensions: DIMENSIONS,
    clock: new ManualClock(T0),
    newId: () => `generated-${++n}`,
  });
  const post = async (body: unknown, raw?: string) => {
    const res = await handler(apiEvent('POST', '/tasks', raw === undefined ? { body } : { rawBody: raw }));
    return { status: res.statusCode, body: JSON.parse(res.body) };
  };
  return { sender, post, acceptances };
}

const valid = { cpu: 100, mem: 256, deadline: 1_900_000_000, duration: 60 };

describe('enqueue: POST /tasks', () => {
  it('queues one task and answers 202 with its generated id', async () => {
    // Prepare
    const { sender, post } = setup();
    // Act
    const res = await post(valid);
    // Assess
    expect(res).toEqual({ status: 202, body: { accepted: ['generated-1'], duplicates: [] } });
    expect(sender.sent).toHaveLength(1);
    const [queued] = sender.sent[0]!;
    expect(queued).toEqual({
      id: 'generated-1',
      requirements: { cpu: 100, mem: 256, io: 0, bw: 0 },
      duration: 60,
      deadline: 1_900_000_000,
      priority: 0,
      submittedAt: T0,
      labels: {},
      constraints: {},
    });
    // What is queued is what the scheduler's schema accepts.
    expect(queueMessageSchema(DIMENSIONS).safeParse({ version: 1, task: queued }).success).toBe(true);
  });

  it('queues an array in order, keeping client ids', async () => {
    const { sender, post } = setup();
    const res = await post([
      { ...valid, id: 'a' },
      { ...valid, id: 'b', priority: 5, labels: { team: 'x' } },
    ]);
    expect(res).toEqual({ status: 202, body: { accepted: ['a', 'b'], duplicates: [] } });
    expect(sender.sent[0]!.map((t) => [t.id, t.priority, t.labels])).toEqual([
      ['a', 0, {}],
      ['b', 5, { team: 'x' }],
    ]);
  });

  it('sends an id repeated within the request with the same body once and reports it as a duplicate', async () => {
    const { sender, post } = setup();
    const res = await post([
      { ...valid, id: 'a', cpu: 1 },
      { ...valid, id: 'a', cpu: 1, priority: 0 },
      { ...valid, id: 'b' },
    ]);
    expect(res).toEqual({ status: 202, body: { accepted: ['a', 'b'], duplicates: ['a'] } });
    expect(sender.sent[0]!.map((t) => [t.id, t.requirements.cpu])).toEqual([
      ['a', 1],
      ['b', 100],
    ]);
  });

  it('refuses an id repeated within the request with a different body: 409 naming it, nothing queued or claimed', async () => {
    const { sender, post, acceptances } = setup();
    const res = await post([
      { ...valid, id: 'a', cpu: 1 },
      { ...valid, id: 'b' },
      { ...valid, id: 'a', cpu: 2 },
    ]);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'TaskConflictError', task_ids: ['a'] });
    expect(res.body.message).toContain('a');
    expect(sender.sent).toEqual([]);
    expect(await acceptances.get('a')).toBeNull();
    expect(await acceptances.get('b')).toBeNull();
  });

  it('a repeat with the same body is a duplicate; with a different body a 409 that leaves the request without trace', async () => {
    const { sender, post, acceptances } = setup();
    expect(await post({ ...valid, id: 'a' })).toEqual({
      status: 202,
      body: { accepted: ['a'], duplicates: [] },
    });
    const first = await acceptances.get('a');
    expect(first).toMatchObject({ task_id: 'a', queued: true, accepted_at: T0 });
    expect(first!.body_sha256).toMatch(/^[0-9a-f]{64}$/);

    // The same task, its defaults spelled out: the same canonical body.
    expect(await post({ ...valid, id: 'a', priority: 0, labels: {}, io: 0 })).toEqual({
      status: 202,
      body: { accepted: [], duplicates: ['a'] },
    });
    expect(sender.sent).toHaveLength(1);

    const conflict = await post([
      { ...valid, id: 'c' },
      { ...valid, id: 'a', duration: 61 },
    ]);
    expect(conflict.status).toBe(409);
    expect(conflict.body.task_ids).toEqual(['a']);
    expect(sender.sent).toHaveLength(1);
    // Neither the conflicting record nor the claim of `c` changed or stayed.
    expect(await acceptances.get('a')).toEqual(first);
    expect(await acceptances.get('c')).toBeNull();
    expect(await post({ ...valid, id: 'c', cpu: 7 })).toEqual({
      status: 202,
      body: { accepted: ['c'], duplicates: [] },
    });
  });

  it('a claim whose send failed is queued again by a resubmission with the same body', async () => {
    const acceptances = new MemoryTaskAcceptances();
    const refused = setup(['b'], acceptances);
    const res = await refused.post([
      { ...valid, id: 'a' },
      { ...valid, id: 'b' },
    ]);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ accepted: ['a'], failed: [{ id: 'b', reason: 'Throttled' }] });
    expect(await acceptances.get('b')).toMatchObject({ queued: false });

    const retry = setup([], acceptances);
    expect(
      await retry.post([
        { ...valid, id: 'a' },
        { ...valid, id: 'b' },
      ]),
    ).toEqual({ status: 202, body: { accepted: ['b'], duplicates: ['a'] } });
    expect(retry.sender.sent.map((batch) => batch.map((t) => t.id))).toEqual([['b']]);
    expect(await acceptances.get('b')).toMatchObject({ queued: true });
  });

  describe.each([
    ['a task without a deadline', { cpu: 1, duration: 5 }, 'deadline'],
    ['a negative resource', { ...valid, cpu: -1 }, 'cpu'],
    ['an unknown field', { ...valid, colour: 'red' }, ''],
    ['a bad id', { ...valid, id: ' spaces ' }, 'id'],
    ['the second task of an array', [valid, { ...valid, mem: 'lots' }], '1.mem'],
    ['an empty array', [], ''],
    ['a task with no resource at all', { deadline: 1, duration: 1 }, ''],
  ])('400 for %s', (_name, body, field) => {
    it(`names the field "${field}" and queues nothing`, async () => {
      const { sender, post } = setup();
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('ValidationError');
      expect(res.body.issues.map((i: { field: string }) => i.field)).toContain(field);
      expect(sender.sent).toHaveLength(0);
    });
  });

  it.each([
    ['not JSON', '{"cpu": 1,'],
    ['empty', ''],
  ])('400 when the body is %s, on the body itself', async (_name, raw) => {
    const { sender, post } = setup();
    const res = await post(undefined, raw);
    expect(res.status).toBe(400);
    expect(res.body.issues).toEqual([{ field: '', message: expect.stringMatching(/request body/) }]);
    expect(sender.sent).toHaveLength(0);
  });

  it('413 for a body over the limit, before parsing it', async () => {
    const { sender, post } = setup();
    const res = await post(undefined, `"${'x'.repeat(MAX_BODY_BYTES)}"`);
    expect(res.status).toBe(413);
    expect(sender.sent).toHaveLength(0);
  });

  it('503 naming the tasks SQS refused and the ones it took', async () => {
    const { post } = setup(['b']);
    const res = await post([
      { ...valid, id: 'a' },
      { ...valid, id: 'b' },
    ]);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ accepted: ['a'], failed: [{ id: 'b', reason: 'Throttled' }] });
  });
});
