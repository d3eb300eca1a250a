import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Every Lambda entry records its AWS calls when the aws tests ask (functions/shared/aws-call-log.ts):
 * an entry without it would leave its calls out of the IAM evaluation of tests/aws/e2e-stack.test.ts.
 */
const dir = fileURLToPath(new URL('../../../functions/', import.meta.url));

describe('function entries', () => {
  it('each imports the AWS call log first', async () => {
    const entries = (await readdir(dir)).filter((f) => f.endsWith('.ts'));
    expect(entries.length).toBeGreaterThan(5);
    const missing: string[] = [];
    for (const entry of entries) {
      const firstImport = (await readFile(`${dir}${entry}`, 'utf8'))
        .split('\n')
        .find((l) => l.startsWith('import '));
      if (firstImport !== "import './shared/aws-call-log';") missing.push(entry);
    }
    expect(missing).toEqual([]);
  });
});
