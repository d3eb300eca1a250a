import type * as z from 'zod';
import { type FieldIssue, ValidationError } from '../errors';

/** Stop collecting after this many problems: one bad column in a 100k-row file should not print 100k lines. */
const MAX_ISSUES = 20;

export interface CsvOptions {
  /** Named in error messages, e.g. the file name. */
  source: string;
  /** Columns that must be present in the header (others are ignored). */
  columns: readonly string[];
}

/**
 * Parses a plain CSV file (header row, comma-separated, no quoting: the Alibaba trace format) and
 * validates each row with `row`. Every problem names the line (1-based, header = line 1) and the
 * column; all problems up to MAX_ISSUES are collected into one ValidationError so that a user can
 * fix a file in one pass. Nothing is returned unless every row is valid.
 */
export function parseCsv<S extends z.ZodType>(text: string, row: S, options: CsvOptions): z.output<S>[] {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((c) => c.trim());
  const missing = options.columns.filter((c) => !header.includes(c));
  if (missing.length > 0) {
    throw new ValidationError(
      missing.map((c) => ({ field: 'line 1', message: `missing column "${c}"` })),
      `invalid CSV ${options.source}`,
    );
  }

  const issues: FieldIssue[] = [];
  const rows: z.output<S>[] = [];
  for (let i = 1; i < lines.length && issues.length < MAX_ISSUES; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const where = `line ${i + 1}`;
    if (line.includes('"')) {
      issues.push({ field: where, message: 'quoted fields are not supported' });
      continue;
    }
    const cells = line.split(',');
    if (cells.length !== header.length) {
      issues.push({ field: where, message: `expected ${header.length} columns, found ${cells.length}` });
      continue;
    }
    const record: Record<string, string> = {};
    header.forEach((name, c) => {
      record[name] = cells[c]!.trim();
    });
    const result = row.safeParse(record);
    if (result.success) {
      rows.push(result.data);
    } else {
      for (const issue of result.error.issues) {
        const column = issue.path.length > 0 ? ` column ${issue.path.map(String).join('.')}` : '';
        issues.push({ field: `${where}${column}`, message: issue.message });
      }
    }
  }
  if (issues.length > 0)
    throw new ValidationError(issues.slice(0, MAX_ISSUES), `invalid CSV ${options.source}`);
  return rows;
}
