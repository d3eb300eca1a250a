import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..', '..', '..');
const LISTENING = /bcs listening on (http:\/\/\S+)/;

export interface RunningRuntime {
  url: string;
  /** Everything the process wrote, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts the real local runtime (`node bin/bcs.js start`) on a free loopback port with a fresh data
 * directory and the given configuration file contents, and resolves with its URL once it listens.
 */
export async function startRuntime(
  config: Record<string, unknown>,
  timeoutMs = 60_000,
): Promise<RunningRuntime> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bcs-browser-'));
  const configFile = join(dataDir, 'config.json');
  await writeFile(configFile, JSON.stringify(config));
  const child = spawn(process.execPath, [join(REPO, 'bin', 'bcs.js'), 'start', '--config', configFile], {
    cwd: REPO,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', DATA_DIR: join(dataDir, 'data') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const record = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout.on('data', record);
  child.stderr.on('data', record);

  const stop = async () => {
    await terminate(child);
    await rm(dataDir, { recursive: true, force: true });
  };

  try {
    const url = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`bcs start did not listen within ${timeoutMs} ms:\n${output}`)),
        timeoutMs,
      );
      const onData = () => {
        const match = LISTENING.exec(output);
        if (match) {
          clearTimeout(timer);
          resolveUrl(match[1]!);
        }
      };
      child.stdout.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`bcs start exited (${signal ?? code}) before listening:\n${output}`));
      });
    });
    return { url, output: () => output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** SIGTERM, then SIGKILL if the process has not exited after a grace period. */
async function terminate(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
