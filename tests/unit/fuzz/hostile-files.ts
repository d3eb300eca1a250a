import fc from 'fast-check';
import { damage, taskRoute, validTask } from './hostile';
import { deeplyNested, serialise } from './json-text';

/**
 * Task files for `bcs enqueue --file` that must be refused before anything is sent: JSON Lines or a
 * JSON array of valid tasks with one broken in one way, one id on two lines with different bodies,
 * or a file that is no list of tasks at all. `names` is what the error must say: the line (or array
 * index) and the field.
 */
export interface HostileFile {
  label: string;
  bytes: Uint8Array;
  names: string;
}

const bytesOf = (value: unknown): Buffer => {
  const text = serialise(value);
  return typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text);
};

const lines = (values: unknown[]): Buffer =>
  Buffer.concat(values.flatMap((v) => [bytesOf(v), Buffer.from('\n')]));

export function hostileTaskFiles(now: number): fc.Arbitrary<HostileFile> {
  const route = taskRoute(now);
  const valid = fc.uniqueArray(validTask(now), { maxLength: 4, selector: (t) => t.id });
  const jsonl = fc.tuple(valid, damage(route)).chain(([good, d]) =>
    fc.integer({ min: 0, max: good.length }).map((at): HostileFile => {
      const values: unknown[] = [...good];
      values.splice(at, 0, d.value);
      const line = `line ${at + 1}`;
      return {
        label: `JSON Lines, ${line}: ${d.label}`,
        bytes: lines(values),
        names: d.field ? `${line}: ${d.field}` : line,
      };
    }),
  );
  const array = fc.tuple(valid, damage(route)).chain(([good, d]) =>
    fc.integer({ min: 0, max: good.length }).map((at): HostileFile => {
      const values: unknown[] = [...good];
      values.splice(at, 0, d.value);
      const names =
        d.mention === 'UTF-8'
          ? 'line 1'
          : d.mention === 'JSON'
            ? 'not JSON'
            : d.field
              ? `${at}.${d.field}`
              : String(at);
      return { label: `JSON array, task ${at}: ${d.label}`, bytes: bytesOf(values), names };
    }),
  );
  const twins = fc
    .tuple(validTask(now), fc.integer({ min: 1, max: 100 }), fc.boolean())
    .map(([task, extra, asArray]): HostileFile => {
      const twin = { ...task, cpu: (task.cpu as number) + extra };
      return asArray
        ? { label: 'JSON array, one id twice', bytes: bytesOf([task, twin]), names: '1.id' }
        : { label: 'JSON Lines, one id twice', bytes: lines([task, twin]), names: 'line 2: id' };
    });
  const whole = fc.constantFrom<HostileFile>(
    { label: 'an empty file', bytes: Buffer.alloc(0), names: 'no tasks' },
    { label: 'only blank lines', bytes: Buffer.from('\n \r\n\t\n'), names: 'no tasks' },
    { label: 'an empty array', bytes: Buffer.from('[]'), names: 'no tasks' },
    { label: 'an unclosed array', bytes: Buffer.from('[{"cpu":1}'), names: 'not JSON' },
    { label: 'a lone brace', bytes: Buffer.from('{\n'), names: 'line 1' },
    { label: 'null', bytes: Buffer.from('null\n'), names: 'line 1' },
    { label: 'a pretty-printed object', bytes: Buffer.from('{\n  "cpu": 1\n}\n'), names: 'line 2' },
    { label: '10,000 nested arrays', bytes: bytesOf(deeplyNested(10_000, 'array')), names: '0' },
    { label: '10,000 nested objects', bytes: bytesOf(deeplyNested(10_000, 'object')), names: 'line 1' },
    { label: 'bytes that are not UTF-8', bytes: Buffer.from([0x7b, 0xff, 0x7d, 0x0a]), names: 'line 1' },
  );
  return fc.oneof(
    { weight: 4, arbitrary: jsonl },
    { weight: 3, arbitrary: array },
    { weight: 1, arbitrary: twins },
    { weight: 1, arbitrary: whole },
  );
}
