import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../cli/main';
import { validTask } from '../../unit/fuzz/hostile';
import { hostileTaskFiles } from '../../unit/fuzz/hostile-files';
import { runCli, tempDir } from '../helpers/server';

/**
 * `bcs enqueue --file` with hostile JSON and JSON Lines files: exit 2, the error names the line (or
 * array index) and field, and nothing reaches the server. The server is a loopback stub that answers
 * GET /config and records everything else.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const now = Math.floor(Date.now() / 1000);

let stub: Server;
let url: string;
let dir: string;
const received: string[] = [];

beforeAll(async () => {
  dir = await tempDir('bcs-fuzz-cli-');
  stub = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/config') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ dimensions: ['cpu', 'mem', 'io', 'bw'] }));
      return;
    }
    received.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(202, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ accepted: [], duplicates: [] }));
  });
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => stub.close(resolve));
});

/** Runs the CLI in-process (cli/main.ts returns the exit code) and collects what it wrote to stderr. */
async function enqueueFile(file: string): Promise<{ code: number; stderr: string }> {
  const lines: string[] = [];
  const error = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    lines.push(args.map(String).join(' '));
  });
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    const code = await main(['node', 'bcs', 'enqueue', '--url', url, '--file', file]);
    return { code, stderr: lines.join('\n') };
  } finally {
    error.mockRestore();
    log.mockRestore();
  }
}

describe('bcs enqueue --file with hostile files', () => {
  it(`refuses ${RUNS} of them with exit 2 naming line and field, sending nothing`, async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(hostileTaskFiles(now), async (hostile) => {
        const file = join(dir, `hostile-${n++}.jsonl`);
        await writeFile(file, hostile.bytes);
        const { code, stderr } = await enqueueFile(file);
        if (code !== 2 || !stderr.includes(hostile.names) || received.length > 0) {
          throw new Error(
            `${hostile.label}: exit ${code}, ${received.length} requests sent, stderr does not name "${hostile.names}": ${stderr.slice(0, 400)}`,
          );
        }
      }),
      { numRuns: RUNS },
    );
    expect(received).toEqual([]);
  });

  it('sends a clean file of the same shapes (the stub records it), so the refusals above are the validation', async () => {
    const tasks = fc.sample(
      fc.uniqueArray(validTask(now), { minLength: 2, maxLength: 5, selector: (t) => t.id }),
      {
        numRuns: 1,
        seed: 1,
      },
    )[0]!;
    const file = join(dir, 'clean.jsonl');
    await writeFile(file, `${tasks.map((t) => JSON.stringify(t)).join('\n')}\n`);
    expect((await enqueueFile(file)).code).toBe(0);
    expect(received).toEqual(['POST /tasks']);
    received.length = 0;
  });

  it('the installed binary exits 2 on bytes that are not UTF-8 (they were read as U+FFFD and sent)', async () => {
    const file = join(dir, 'bad-binary.jsonl');
    const task = { id: 'b-1', cpu: 1, deadline: now + 3600, duration: 1 };
    await writeFile(
      file,
      Buffer.concat([
        Buffer.from(`${JSON.stringify(task)}\n\n{"id":"b-2","command":"`),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('","cpu":1,"deadline":1,"duration":1}\n'),
      ]),
    );
    const result = await runCli(['enqueue', '--url', url, '--file', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('line 3: not UTF-8');
    expect(received).toEqual([]);
  });

  it('names the second line of one id with two bodies (the server kept whichever copy came first)', async () => {
    const file = join(dir, 'twins.jsonl');
    const task = { id: 't-1', cpu: 1, deadline: now + 3600, duration: 1 };
    await writeFile(file, `${JSON.stringify(task)}\n${JSON.stringify({ ...task, cpu: 2 })}\n`);
    const { code, stderr } = await enqueueFile(file);
    expect(code).toBe(2);
    expect(stderr).toContain('line 2: id: task t-1 is also at line 1 with a different body');
    expect(received).toEqual([]);
    // The same task twice is a harmless repeat and is still sent once per line, as before.
    await writeFile(file, `${JSON.stringify(task)}\n${JSON.stringify(task)}\n`);
    expect((await enqueueFile(file)).code).toBe(0);
    expect(received).toEqual(['POST /tasks']);
    received.length = 0;
  });
});
