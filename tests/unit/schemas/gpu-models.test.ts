import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors';
import { queueMessageBodySchema, tasksOf, toQueueMessage } from '../../../lib/schemas/queue-message';
import { taskInputSchema, taskSubmissionSchema, toTask } from '../../../lib/schemas/task-input';

const DIMS = ['cpu', 'mem', 'gpu'] as const;
const body = { id: 't-1', cpu: 1000, gpu: 500, deadline: 2_000_000_000, duration: 60 };

function fieldsOf(input: unknown): string[] {
  const parsed = taskInputSchema(DIMS).safeParse(input);
  expect(parsed.success).toBe(false);
  return ValidationError.fromZod(parsed.error!).issues.map((i) => i.field);
}

describe('gpuModels on a submitted task', () => {
  it('is accepted, carried into the Task and through a queue message unchanged', () => {
    const input = taskSubmissionSchema(DIMS).parse({ ...body, gpuModels: ['V100M16', 'V100M32'] });
    const task = toTask(input as never, DIMS, 1, () => 'x');
    expect(task.gpuModels).toEqual(['V100M16', 'V100M32']);
    const queued = queueMessageBodySchema(DIMS).parse(JSON.parse(JSON.stringify(toQueueMessage(task))));
    expect(tasksOf(queued)[0]!.gpuModels).toEqual(['V100M16', 'V100M32']);
  });

  it('is left out of the Task when not given (any model)', () => {
    const task = toTask(taskSubmissionSchema(DIMS).parse(body) as never, DIMS, 1, () => 'x');
    expect('gpuModels' in task).toBe(false);
  });

  it.each([
    [[], 'gpuModels'],
    [['T4', 'T4'], 'gpuModels'],
    [['bad/name'], 'gpuModels.0'],
    [Array.from({ length: 17 }, (_, k) => `M${k}`), 'gpuModels'],
    ['T4', 'gpuModels'],
  ])('refuses %j naming the field', (gpuModels, field) => {
    expect(fieldsOf({ ...body, gpuModels })).toEqual([field]);
  });
});
