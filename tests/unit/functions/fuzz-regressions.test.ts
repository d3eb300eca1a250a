import { describe, expect, it } from 'vitest';
import { enqueueHandler } from '../../../functions/handlers/enqueue';
import { MemoryTaskAcceptances } from '../../../lib/adapters/memory/memory-task-acceptances';
import type { Task } from '../../../lib/model/task';
import { ManualClock } from '../../../lib/ports/clock';
import type { SendResult, TaskSender } from '../../../lib/ports/task-sender';
import { queueMessageSchema } from '../../../lib/schemas/queue-message';
import { taskInputSchema } from '../../../lib/schemas/task-input';
import { serialise, withKey } from '../fuzz/json-text';
import { apiEvent } from './helpers/events';
import { DIMENSIONS, messageFor, T0, task } from './helpers/fixtures';

/** Inputs the fuzz suite found accepted by the functions and the shared schemas, kept as found. */

class RecordingSender implements TaskSender {
  readonly sent: Task[] = [];
  async send(tasks: readonly Task[]): Promise<SendResult> {
    this.sent.push(...tasks);
    return { sent: tasks.map((t) => t.id), failed: [] };
  }
}

function post(edit: (event: ReturnType<typeof apiEvent>) => void) {
  const sender = new RecordingSender();
  const handler = enqueueHandler({
    sender,
    acceptances: new MemoryTaskAcceptances(),
    dimensions: DIMENSIONS,
    clock: new ManualClock(T0),
    newId: () => 'g',
  });
  const event = apiEvent('POST', '/tasks', {
    body: { id: 'r-1', cpu: 1, deadline: 1_900_000_000, duration: 60 },
  });
  edit(event);
  return handler(event).then((res) => ({ status: res.statusCode, body: JSON.parse(res.body), sender }));
}

describe('enqueue function', () => {
  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx'])(
    'refuses a valid task declared as %s with 415 and sends nothing',
    async (type) => {
      const res = await post((e) => {
        e.headers = { 'Content-Type': type };
      });
      expect(res.status).toBe(415);
      expect(res.body.error).toBe('UnsupportedMediaType');
      expect(res.sender.sent).toEqual([]);
    },
  );

  it('reads the content type whatever the header spelling', async () => {
    const res = await post((e) => {
      e.headers = { 'CONTENT-TYPE': 'application/json; charset=utf-8' };
    });
    expect(res.status).toBe(202);
  });

  it('refuses a base64 body holding bytes that are not UTF-8 instead of queueing U+FFFD', async () => {
    const res = await post((e) => {
      const bytes = Buffer.concat([
        Buffer.from('{"id":"r-1","cpu":1,"deadline":1900000000,"duration":60,"command":"a'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}'),
      ]);
      e.body = bytes.toString('base64');
      e.isBase64Encoded = true;
    });
    expect(res.status).toBe(400);
    expect(res.body.issues).toEqual([{ field: '', message: 'request body is not UTF-8' }]);
    expect(res.sender.sent).toEqual([]);
  });

  it('refuses a text body holding U+FFFD, which API Gateway leaves where the client sent bytes that are not UTF-8', async () => {
    // What the gateway hands the function for the bytes c3 28: text, already decoded, lossy.
    const damaged = Buffer.concat([
      Buffer.from('{"id":"r-1","cpu":1,"deadline":1900000000,"duration":60,"command":"a'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}'),
    ]).toString('utf8');
    const res = await post((e) => {
      e.body = damaged;
      e.isBase64Encoded = false;
    });
    expect(res.status).toBe(400);
    expect(res.body.issues[0].message).toMatch(/not UTF-8.*U\+FFFD/);
    expect(res.sender.sent).toEqual([]);
  });

  it('accepts U+FFFD sent escaped, or as UTF-8 bytes in a base64 body: only lossy decoding is refused', async () => {
    const escaped = await post((e) => {
      e.body = '{"id":"r-1","cpu":1,"deadline":1900000000,"duration":60,"command":"a\\ufffd"}';
    });
    expect(escaped.status).toBe(202);
    expect(escaped.sender.sent[0]?.command).toBe('a\uFFFD');
    const binary = await post((e) => {
      e.body = Buffer.from(
        '{"id":"r-1","cpu":1,"deadline":1900000000,"duration":60,"command":"a\uFFFD"}',
      ).toString('base64');
      e.isBase64Encoded = true;
    });
    expect(binary.status).toBe(202);
    expect(binary.sender.sent[0]?.command).toBe('a\uFFFD');
  });

  it('refuses a "__proto__" label by its path instead of queueing the task without it', async () => {
    const body = serialise({
      cpu: 1,
      deadline: 1_900_000_000,
      duration: 60,
      labels: withKey({}, '__proto__', 'x'),
    });
    const res = await post((e) => {
      e.body = body as string;
    });
    expect(res.status).toBe(400);
    expect(res.body.issues.map((i: { field: string }) => i.field)).toEqual(['labels.__proto__']);
    expect(res.sender.sent).toEqual([]);
  });
});

describe('shared schemas on values that skipped the body parser', () => {
  it('a queue message with a "__proto__" label fails the schema (zod records dropped the key)', () => {
    const message = JSON.parse(serialise(messageFor(task('q-1', { cpu: 1 }))) as string);
    message.task.labels = JSON.parse('{"__proto__":"x","team":"a"}');
    const result = queueMessageSchema(DIMENSIONS).safeParse(message);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(['task.labels.__proto__']);
  });

  it('a task input with a "__proto__" constraint fails the schema; ordinary keys still pass', () => {
    const base = { cpu: 1, deadline: 1, duration: 1 };
    const bad = taskInputSchema().safeParse({ ...base, constraints: JSON.parse('{"__proto__":"x"}') });
    expect(bad.error?.issues.map((i) => i.path.join('.'))).toEqual(['constraints.__proto__']);
    expect(taskInputSchema().parse({ ...base, labels: { constructor: 'x', team: 'a' } }).labels).toEqual({
      constructor: 'x',
      team: 'a',
    });
  });
});
