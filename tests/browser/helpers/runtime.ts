import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..', '..', '..');
const LISTENING = /bcs listening on (http:\/\/\S+)/;

export interface RunningRuntime {
  url: string;
  /** Everything the processes wrote, for failure messages. */
  output(): string;
  /** Stops the server and starts it again on the same port and data directory (the ledger survives). */
  restart(): Promise<void>;
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
  const dir = await mkdtemp(join(tmpdir(), 'bcs-browser-'));
  const configFile = join(dir, 'config.json');
  await writeFile(configFile, JSON.stringify(config));
  let output = '';

  const launch = async (port: string): Promise<{ child: ChildProcess; url: string }> => {
    const child = spawn(process.execPath, [join(REPO, 'bin', 'bcs.js'), 'start', '--config', configFile], {
      cwd: REPO,
      env: { ...process.env, HOST: '127.0.0.1', PORT: port, DATA_DIR: join(dir, 'data') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let own = '';
    const record = (chunk: Buffer) => {
      own += chunk.toString();
      output += chunk.toString();
    };
    child.stdout?.on('data', record);
    child.stderr?.on('data', record);
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`bcs start did not listen within ${timeoutMs} ms:\n${output}`)),
          timeoutMs,
        );
        child.stdout?.on('data', () => {
          const match = LISTENING.exec(own);
          if (match) {
            clearTimeout(timer);
            resolveUrl(match[1]!);
          }
        });
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`bcs start exited (${signal ?? code}) before listening:\n${output}`));
        });
      });
      return { child, url };
    } catch (error) {
      await terminate(child);
      throw error;
    }
  };

  let current: { child: ChildProcess; url: string };
  try {
    current = await launch('0');
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const port = new URL(current.url).port;

  return {
    url: current.url,
    output: () => output,
    async restart() {
      await terminate(current.child);
      current = await launch(port);
    },
    async stop() {
      await terminate(current.child);
      await rm(dir, { recursive: true, force: true });
    },
  };
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
