import { readFile } from 'node:fs/promises';
import canonicalize from 'canonicalize';
import type * as z from 'zod';
import { type FieldIssue, ValidationError } from '../lib/errors';
import type { Dimensions } from '../lib/model/resources';
import { taskInputSchema } from '../lib/schemas/task-input';

export type TaskInputJson = Record<string, unknown>;

/**
 * Reads tasks to submit from a JSON array or JSON Lines file and validates every one before anything
 * is sent. Fields are named "line 3: cpu" (JSON Lines) or "3.cpu" (array index), all problems at once.
 */
export async function readTaskFile(path: string, dimensions: Dimensions): Promise<TaskInputJson[]> {
  const { text, issues } = decodeLines(await readFile(path));
  if (issues.length > 0)
    throw new ValidationError(issues.slice(0, 20), `${path}: ${issues.length} problem(s)`);
  const schema = taskInputSchema(dimensions);
  const trimmed = text.trimStart();
  const tasks: TaskInputJson[] = [];
  const firstBody = new Map<string, { where: string; canonical: string }>();
  const check = (value: unknown, where: string) => {
    const result = schema.safeParse(value);
    if (!result.success) {
      issues.push(...namedIssues(result.error, where));
      return;
    }
    // One id with two bodies is ambiguous: the server would keep whichever copy it saw first.
    const id = result.data.id;
    const canonical = canonicalize(value) ?? '';
    const first = id === undefined ? undefined : firstBody.get(id);
    if (id !== undefined && first === undefined) firstBody.set(id, { where, canonical });
    if (first !== undefined && first.canonical !== canonical) {
      issues.push({
        field: fieldName(where, ['id']),
        message: `task ${id} is also at ${first.where} with a different body`,
      });
      return;
    }
    tasks.push(value as TaskInputJson);
  };
  if (trimmed.startsWith('[')) {
    let values: unknown;
    try {
      values = JSON.parse(trimmed);
    } catch (error) {
      throw new ValidationError([{ field: '', message: `not JSON: ${(error as Error).message}` }], path);
    }
    for (const [i, value] of (values as unknown[]).entries()) check(value, String(i));
  } else {
    text.split('\n').forEach((raw, i) => {
      const line = raw.trim();
      if (line === '') return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        issues.push({ field: `line ${i + 1}`, message: `not JSON: ${(error as Error).message}` });
        return;
      }
      check(value, `line ${i + 1}`);
    });
  }
  if (issues.length > 0)
    throw new ValidationError(issues.slice(0, 20), `${path}: ${issues.length} problem(s)`);
  if (tasks.length === 0) throw new ValidationError([{ field: '', message: 'no tasks in the file' }], path);
  return tasks;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The file as text, line by line, so that bytes that are not UTF-8 are named by line instead of
 * being read as U+FFFD and sent as part of a task.
 */
function decodeLines(bytes: Buffer): { text: string; issues: FieldIssue[] } {
  const lines: string[] = [];
  const issues: FieldIssue[] = [];
  let start = 0;
  for (let n = 1; start <= bytes.length; n++) {
    const end = bytes.indexOf(0x0a, start);
    const stop = end === -1 ? bytes.length : end;
    try {
      lines.push(utf8.decode(bytes.subarray(start, stop)));
    } catch {
      issues.push({ field: `line ${n}`, message: 'not UTF-8' });
      lines.push('');
    }
    start = stop + 1;
  }
  return { text: lines.join('\n'), issues };
}

function fieldName(where: string, path: readonly PropertyKey[]): string {
  if (path.length === 0) return where;
  return `${where}${where.startsWith('line') ? ': ' : '.'}${path.map(String).join('.')}`;
}

function namedIssues(error: z.ZodError, where: string): FieldIssue[] {
  return error.issues.map((issue) => ({ field: fieldName(where, issue.path), message: issue.message }));
}
