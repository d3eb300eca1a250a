import fc from 'fast-check';
import { type BodyRoute, damage, ID_PATTERN } from './hostile';
import { deeplyNested, Raw, serialise, withKey } from './json-text';

/**
 * Task-queue message bodies that did not come from our intake: a producer with write access to the
 * queue, another version, or transport damage. SQS bodies are Unicode text, so unlike HTTP bodies
 * they cannot carry bytes that are not UTF-8.
 */

/** `submittedAt` in epoch milliseconds, as the intake stamps it; deadlines fall after it. */
export function validQueuedTask(submittedAt: number): fc.Arbitrary<Record<string, unknown>> {
  return fc.record({
    id: fc.stringMatching(/^fz-[a-z0-9]{1,16}$/),
    requirements: fc.record({
      cpu: fc.integer({ min: 1, max: 500 }),
      mem: fc.integer({ min: 0, max: 500 }),
      io: fc.integer({ min: 0, max: 50 }),
      bw: fc.integer({ min: 0, max: 50 }),
    }),
    duration: fc.integer({ min: 1, max: 3600 }),
    deadline: fc.integer({
      min: Math.floor(submittedAt / 1000) + 3600,
      max: Math.floor(submittedAt / 1000) + 86_400,
    }),
    priority: fc.integer({ min: -5, max: 5 }),
    submittedAt: fc.constant(submittedAt),
    labels: fc.constant({ team: 'a' }),
    constraints: fc.constant({}),
    command: fc.stringMatching(/^[a-z ]{1,12}$/),
  });
}

function queuedTaskRoute(submittedAt: number): BodyRoute {
  return {
    method: 'POST',
    path: 'sqs',
    valid: validQueuedTask(submittedAt),
    fields: {
      id: {
        kind: 'string',
        bad: fc.oneof(
          fc.constantFrom('', ' ', '.lead', 'a b', 'x'.repeat(129)),
          fc.string({ maxLength: 20 }).filter((s) => !ID_PATTERN.test(s)),
        ),
      },
      requirements: { kind: 'object' },
      duration: { kind: 'number', min: Number.MIN_VALUE, max: 31_536_000 },
      deadline: { kind: 'number', min: 0, max: 1e11 },
      priority: { kind: 'int', min: -1000, max: 1000 },
      submittedAt: { kind: 'int', min: 0 },
      labels: { kind: 'object' },
      constraints: { kind: 'object' },
      command: { kind: 'string', bad: fc.constantFrom('', 'x'.repeat(4097)) },
    },
    required: [
      'id',
      'requirements',
      'duration',
      'deadline',
      'priority',
      'submittedAt',
      'labels',
      'constraints',
    ],
    maps: {
      labels: { badKeys: ['__proto__', '', 'k'.repeat(64)], validValue: 'v' },
      requirements: { badKeys: ['__proto__', 'gpu', 'CPU'], validValue: 1 },
    },
    text: 'command',
    acceptsArrays: false,
  };
}

export interface HostileMessage {
  label: string;
  body: string;
}

/** A message body the scheduler must refuse: a broken task, a broken envelope, or no JSON at all. */
export function hostileMessages(submittedAt: number): fc.Arbitrary<HostileMessage> {
  const route = queuedTaskRoute(submittedAt);
  const envelope = (label: string, value: unknown): HostileMessage | null => {
    const body = serialise(value);
    return typeof body === 'string' ? { label, body } : null;
  };
  return fc
    .oneof(
      {
        weight: 5,
        arbitrary: damage(route)
          .filter((d) => d.mention !== 'UTF-8')
          .map((d) => envelope(`task: ${d.label}`, { version: 1, task: d.value })),
      },
      {
        weight: 2,
        arbitrary: fc
          .tuple(
            validQueuedTask(submittedAt),
            fc.constantFrom<unknown>(0, 2, '1', null, true, 1.5, new Raw('1e999'), new Raw('NaN')),
          )
          .map(([task, version]) => envelope(`version ${JSON.stringify(version)}`, { version, task })),
      },
      {
        weight: 2,
        arbitrary: fc
          .tuple(
            validQueuedTask(submittedAt),
            fc.constantFrom('__proto__', 'constructor', 'tasks', 'Version'),
          )
          .map(([task, key]) => envelope(`envelope key ${key}`, withKey({ version: 1, task }, key, 1))),
      },
      {
        weight: 2,
        arbitrary: validQueuedTask(submittedAt).chain((task) =>
          fc
            .constantFrom<unknown>(
              task,
              [{ version: 1, task }],
              { version: 1 },
              { task },
              { version: 1, task: [task] },
              { version: 1, task: deeplyNested(10_000, 'object') },
              deeplyNested(10_000, 'array'),
              null,
              'task',
              42,
            )
            .map((value) => envelope('a body of the wrong shape', value)),
        ),
      },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom(
            '',
            ' ',
            '{',
            '{"version":1,"task":',
            'undefined',
            "{'version':1}",
            '\uFEFF{}',
            'null',
          )
          .map((body) => ({ label: `the body ${JSON.stringify(body)}`, body })),
      },
    )
    .filter((m): m is HostileMessage => m !== null);
}
