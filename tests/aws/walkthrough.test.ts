import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ROOT } from '../../cli/cdk';
import { type WalkthroughBlock, walkthroughBlocks } from './helpers/walkthrough';

/**
 * docs/aws.md's walkthrough, run verbatim: the blocks marked `<!-- walkthrough: NAME -->` in one bash
 * process (variables carry from block to block as they do in a reader's shell), with `bcs` on the
 * PATH as `npm link` puts it and EMULATOR_PORT pointing `bcs emulator up` at the suite's emulator.
 */

const EXPECTED = ['deploy', 'submit', 'audit', 'tamper', 'tear-down'];
const MARK = '@@walkthrough';
const endpoint = inject('awsEndpoint');
let blocks: WalkthroughBlock[];
let shims: string;
let outcome: { code: number; output: Map<string, string>; stderr: string; stdout: string } | undefined;
let started = false;
/** A deploy takes 1-3 minutes alone and far longer on a loaded machine; the whole run gets 20. */
const RUN_TIMEOUT_MS = 20 * 60_000;

/** Runs the blocks in one `bash -euo pipefail`, each framed by markers on stdout. */
async function runWalkthrough(): Promise<NonNullable<typeof outcome>> {
  started = true;
  const script = [
    'set -euo pipefail',
    ...blocks.flatMap((b) => [`echo "${MARK} start ${b.name}"`, b.code, `echo "${MARK} end ${b.name}"`]),
  ].join('\n');
  const child = spawn('bash', ['-c', script], {
    cwd: ROOT,
    env: {
      ...process.env,
      PATH: `${shims}:${process.env.PATH}`,
      EMULATOR_PORT: new URL(endpoint).port,
      // A reader's shell has none of the suite's variables; `bcs emulator up` sets them again.
      AWS_ENDPOINT_URL: '',
      LOCALSTACK_ENDPOINT: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  // Past the deadline the whole process group goes (cdk and its children), and the output so far is judged.
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), RUN_TIMEOUT_MS - 60_000);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString('utf8');
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString('utf8')).slice(-20_000);
  });
  const code = await new Promise<number>((resolve) => child.once('close', (c) => resolve(c ?? 1)));
  clearTimeout(timer);
  const output = new Map<string, string>();
  const framed = new RegExp(`^${MARK} start (\\S+)\\n([\\s\\S]*?)^${MARK} end \\1$`, 'gm');
  for (const m of stdout.matchAll(framed)) output.set(m[1]!, m[2]!);
  return { code, output, stderr, stdout };
}

beforeAll(async () => {
  blocks = walkthroughBlocks(await readFile(join(ROOT, 'docs/aws.md'), 'utf8'));
  shims = await mkdtemp(join(tmpdir(), 'bcs-walkthrough-'));
  await writeFile(join(shims, 'bcs'), `#!/bin/sh\nexec node "${join(ROOT, 'bin/bcs.js')}" "$@"\n`);
  await chmod(join(shims, 'bcs'), 0o755);
});

afterAll(async () => {
  // A run that stopped half-way leaves its stack; take it down the way the walkthrough does.
  if (started && !outcome?.output.has('tear-down')) {
    await new Promise((resolve) =>
      spawn('bash', ['-c', 'eval "$(bcs emulator env)" && bcs destroy --emulator --stack bcs-demo'], {
        cwd: ROOT,
        env: { ...process.env, PATH: `${shims}:${process.env.PATH}`, EMULATOR_PORT: new URL(endpoint).port },
        stdio: 'ignore',
      }).once('close', resolve),
    );
  }
  if (shims) await rm(shims, { recursive: true, force: true });
});

describe('docs/aws.md walkthrough on the emulator', () => {
  it('marks the five steps in order', () => {
    expect(blocks.map((b) => b.name)).toEqual(EXPECTED);
  });

  it(
    'runs every block verbatim: deploys, schedules, verifies, catches the tampered block, tears down',
    async () => {
      outcome = await runWalkthrough();
      const { code, output, stderr } = outcome;
      expect(code, `${stderr}\nblocks done: ${[...output.keys()].join(', ')}`).toBe(0);
      expect([...output.keys()]).toEqual(EXPECTED);

      // Deploy: the API base URL is the emulator's data plane, not the execute-api host.
      expect(output.get('deploy')).toMatch(new RegExp(`^${endpoint}/_aws/execute-api/[a-z0-9]+/test/$`, 'm'));
      // Submit: three accepted, and each task's ledger record read back through the gateway.
      expect(output.get('submit')).toMatch(/^accepted 3, duplicates 0, /m);
      for (const id of ['demo-1', 'demo-2', 'demo-3'])
        expect(output.get('submit')).toMatch(new RegExp(`"id":"${id}"|"task_id":"${id}"`));
      // Audit: valid through the API, and valid against the stack's own signed digest (KMS signature
      // checked with the public key); then the outputs the later blocks use.
      expect(output.get('audit')!.match(/^ledger is valid$/gm)).toHaveLength(2);
      expect(output.get('audit')).toMatch(/^bcs-demo-\S+ arn:aws:kms:us-east-1:\d{12}:key\/\S+$/m);
      // Tamper: exit 1 naming block 1.
      const tamper = output.get('tamper')!;
      expect(tamper).toMatch(/^exit 1$/m);
      const report = JSON.parse(tamper.slice(tamper.indexOf('{'), tamper.lastIndexOf('}') + 1));
      expect(report).toMatchObject({ valid: false, first_bad_height: 1, problem: 'wrong-merkle-root' });
      expect(stderr).toMatch(/bcs-demo destroyed/);
    },
    RUN_TIMEOUT_MS,
  );
});
