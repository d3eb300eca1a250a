import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors';
import {
  MAX_TASKS_PER_MESSAGE,
  queueMessageBodySchema,
  tasksOf,
  toMultiTaskMessage,
  toQueueMessage,
} from '../../../lib/schemas/queue-message';
import { DIMENSIONS, task } from './helpers/fixtures';

const schema = queueMessageBodySchema(DIMENSIONS);
const t = (id: string) => task(id, { cpu: 1, mem: 0, io: 0, bw: 0 });

function fieldsOf(body: unknown): string[] {
  const parsed = schema.safeParse(body);
  expect(parsed.success).toBe(false);
  return ValidationError.fromZod(parsed.error!).issues.map((i) => i.field);
}

describe('queue message body: version 1 (one task) and version 2 (tasks)', () => {
  it('reads a message queued before multi-task messages existed', () => {
    expect(tasksOf(schema.parse(JSON.parse(JSON.stringify(toQueueMessage(t('a'))))))).toEqual([t('a')]);
  });

  it('reads a multi-task message, tasks in order', () => {
    const tasks = ['a', 'b', 'c'].map(t);
    expect(tasksOf(schema.parse(JSON.parse(JSON.stringify(toMultiTaskMessage(tasks)))))).toEqual(tasks);
  });

  it('refuses a repeated id, an empty or oversized list, and a task field out of range, naming the field', () => {
    expect(fieldsOf(toMultiTaskMessage([t('a'), t('a')]))).toEqual(['tasks']);
    expect(fieldsOf({ version: 2, tasks: [] })).toEqual(['tasks']);
    const many = Array.from({ length: MAX_TASKS_PER_MESSAGE + 1 }, (_, i) => t(`t${i}`));
    expect(fieldsOf(toMultiTaskMessage(many))).toEqual(['tasks']);
    expect(fieldsOf({ version: 2, tasks: [t('a'), { ...t('b'), duration: -1 }] })).toEqual([
      'tasks.1.duration',
    ]);
    // The shapes do not mix: version 1 carries `task`, version 2 `tasks`.
    expect(fieldsOf({ version: 1, tasks: [t('a')] })).toContain('task');
    expect(fieldsOf({ version: 3, task: t('a') })).toEqual(['version']);
  });
});
