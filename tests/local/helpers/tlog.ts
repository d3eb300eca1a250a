import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './server';

/** The Go transparency-log clients and witness built by scripts/tlog/setup.sh (tests/tlog). */
export const TLOG_BIN = join(REPO, 'tests', 'tlog', 'bin');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end; a non-zero exit is a result, not an error. */
export function run(file: string, args: string[], timeout = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Builds the Go binaries (idempotent: scripts/test-deps.sh has usually done it). */
export function buildTlogClients(): Promise<Run> {
  return run('bash', [join(REPO, 'scripts', 'tlog', 'setup.sh')], 20 * 60_000);
}
