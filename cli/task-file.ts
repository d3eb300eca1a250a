import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { type FieldIssue, ValidationError } from '../lib/errors';
import type { Dimensions } from '../lib/model/resources';
import { taskInputSchema } from '../lib/schemas/task-input';

export type TaskInputJson = Record<string, unknown>;

/**
 * Reads tasks to submit from a JSON array or JSON Lines file and validates every one before anything
 * is sent. Fields are named "line 3: cpu" (JSON Lines) or "3.cpu" (array index), all problems at once.
 */
export async function readTaskFile(path: string, dimensions: Dimensions): Promise<TaskInputJson[]> {
  const text = await readFile(path, 'utf8');
  const schema = taskInputSchema(dimensions);
  const trimmed = text.trimStart();
  const issues: FieldIssue[] = [];
  const tasks: TaskInputJson[] = [];
  const check = (value: unknown, where: string) => {
    const result = schema.safeParse(value);
    if (result.success) tasks.push(value as TaskInputJson);
    else issues.push(...namedIssues(result.error, where));
  };
  if (trimmed.startsWith('[')) {
    let values: unknown;
    try {
      values = JSON.parse(text);
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

function namedIssues(error: z.ZodError, where: string): FieldIssue[] {
  return error.issues.map((issue) => ({
    field:
      issue.path.length > 0
        ? `${where}${where.startsWith('line') ? ': ' : '.'}${issue.path.join('.')}`
        : where,
    message: issue.message,
  }));
}
