import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../..', import.meta.url));
export const BCS = join(REPO, 'bin', 'bcs.js');

export interface RunningServer {
  url: string;
  dataDir: string;
  process: ChildProcess;
  /** Everything the server wrote to stderr so far (for failure messages). */
  stderr(): string;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: no cleanup at all, like a crash. */
  kill(): Promise<void>;
}

export interface StartOptions {
  dataDir?: string;
  /** Written to a file and passed with --config. */
  config?: Record<string, unknown>;
  args?: string[];
  env?: Record<string, string>;
}

export async function tempDir(prefix = 'bcs-local-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Spawns `bcs start` on 127.0.0.1 with PORT=0 and resolves once it prints its URL. */
export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const dataDir = options.dataDir ?? (await tempDir());
  const args = [BCS, 'start', ...(options.args ?? [])];
  if (options.config) {
    const file = join(dataDir, `config-${Date.now()}.json`);
    await writeFile(file, JSON.stringify(options.config));
    args.push('--config', file);
  }
  const child = spawn(process.execPath, args, {
    cwd: REPO,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    // Kept next to the data for diagnosing a failed run after the fact.
    appendFileSync(join(dataDir, 'server.log'), chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const onData = (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match) {
        child.stdout!.off('data', onData);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    exited.then((code) => reject(new Error(`bcs start exited with ${code} before listening:\n${stderr}`)));
  });
  return {
    url,
    dataDir,
    process: child,
    stderr: () => stderr,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the bcs CLI to completion. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BCS, ...args], { cwd: REPO, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Polls `probe` until it returns a value, at most `attempts` times `intervalMs` apart. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  attempts = 100,
  intervalMs = 100,
): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`gave up waiting for ${what}`);
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** A valid task in the original system's shape; long by default so nothing completes during a test. */
export function task(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    cpu: 100,
    mem: 256,
    io: 50,
    bw: 10,
    deadline: Math.floor(Date.now() / 1000) + 86_400,
    duration: 36_000,
    ...overrides,
  };
}
