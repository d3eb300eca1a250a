import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Runs the pinned Schemathesis (scripts/fuzz/requirements.txt, installed into .venv by
 * scripts/fuzz/setup.sh) against a running server's /openapi.json with every check, stateful links
 * included. Only what the document cannot state is configured, in tests/local/fuzz/schemathesis.toml.
 * Used by tests/local/fuzz/schemathesis.test.ts (bounded) and `npm run reliability` (longer).
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VENV = process.env.BCS_EMULATOR_VENV ?? join(ROOT, '.venv');
export const SCHEMATHESIS = join(VENV, 'bin', 'schemathesis');
export const SCHEMATHESIS_CONFIG = join(ROOT, 'tests', 'local', 'fuzz', 'schemathesis.toml');
export const SIGV4_HOOK = join(ROOT, 'tests', 'aws', 'e2e', 'schemathesis_sigv4.py');

export interface SchemathesisRun {
  /** Base URL of the server; its document is `${url}/openapi.json` unless `schema` names one. */
  url: string;
  /** The OpenAPI document (a file), when it is not fetched from the server (the stack's needs SigV4). */
  schema?: string;
  /** Settings file; default tests/local/fuzz/schemathesis.toml. */
  config?: string;
  /**
   * Sign every request with SigV4 for execute-api (tests/aws/e2e/schemathesis_sigv4.py, botocore),
   * credentials and region from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION.
   */
  sigv4?: boolean;
  /** Extra environment for the run (e.g. the credentials the SigV4 hook signs with). */
  env?: Record<string, string>;
  /** Sent as `Authorization: Bearer <token>`; the ignored_auth check then also sends requests without it. */
  token?: string;
  /** Test cases per operation and phase. */
  maxExamples: number;
  /** Fixed for reproducible runs in the suite; random when omitted. */
  seed?: number;
  /** Extra CLI arguments (e.g. `--max-time`). */
  args?: readonly string[];
}

export interface SchemathesisResult {
  code: number | null;
  output: string;
}

export function schemathesisArgs(run: SchemathesisRun): string[] {
  return [
    '--no-color',
    '--config-file',
    run.config ?? SCHEMATHESIS_CONFIG,
    'run',
    ...(run.schema === undefined ? [`${run.url}/openapi.json`] : [run.schema, '--url', run.url]),
    '--checks',
    'all',
    '--max-examples',
    String(run.maxExamples),
    // GET /events is a stream that does not end while the server runs; the fuzzer would wait for it.
    '--exclude-path',
    '/events',
    // Generous on a loaded machine: timing is a benchmark's business, not a contract check.
    '--request-timeout',
    '60',
    '--workers',
    '1',
    ...(run.seed === undefined ? [] : ['--seed', String(run.seed), '--generation-deterministic']),
    ...(run.token === undefined ? [] : ['--header', `Authorization: Bearer ${run.token}`]),
    // A placeholder the hook replaces with each request's signature: it makes the credentials
    // explicit to Schemathesis, which then generates none of its own for the sigv4 scheme.
    ...(run.sigv4 ? ['--header', 'Authorization: SigV4'] : []),
    ...(run.args ?? []),
  ];
}

/** Runs Schemathesis to completion; `code` 0 means no failure and no error. */
export function runSchemathesis(run: SchemathesisRun): Promise<SchemathesisResult> {
  if (!existsSync(SCHEMATHESIS)) {
    throw new Error(`${SCHEMATHESIS} is missing: run bash scripts/fuzz/setup.sh (npm test's pretest does)`);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(SCHEMATHESIS, schemathesisArgs(run), {
      cwd: ROOT,
      env: {
        ...process.env,
        SCHEMATHESIS_REPORT_DIR: '',
        NO_COLOR: '1',
        ...(run.sigv4 ? { SCHEMATHESIS_HOOKS: SIGV4_HOOK } : {}),
        ...run.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}
