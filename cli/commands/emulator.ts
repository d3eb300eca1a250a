import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import * as z from 'zod';
import { parseOrThrow } from '../../lib/errors';
import { ROOT } from '../cdk';
import { CliExit, EXIT_NEGATIVE, EXIT_USAGE } from '../exit';
import { intOption } from '../options';

const run = promisify(execFile);
const SCRIPTS = join(ROOT, 'scripts/emulator');
const DEFAULT_PORT = 4566;
const portSchema = z.object({
  '--port': z
    .number()
    .int()
    .min(1, 'must be a TCP port (1-65535)')
    .max(65535, 'must be a TCP port (1-65535)'),
});

interface PortFlags {
  port?: number;
}

/**
 * `bcs emulator up|down|env`: the pinned MiniStack (scripts/emulator/*) on 127.0.0.1:<port>, and the
 * environment that points the AWS SDK, the AWS CLI, cdk and `bcs` at it, printed for `eval`.
 */
export function emulatorCommand(): Command {
  const emulator = new Command('emulator').description(
    'the pinned MiniStack on loopback for trying the AWS stack without an account (docs/emulator.md)',
  );
  const port = (command: Command) =>
    command.option('--port <n>', `loopback port (env EMULATOR_PORT; default ${DEFAULT_PORT})`, intOption);

  port(
    emulator
      .command('up')
      .description(
        'install (first time) and start MiniStack, or reuse the one answering on the port; prints the environment: eval "$(bcs emulator up)"',
      ),
  ).action(async (flags: PortFlags) => {
    const endpoint = endpointOf(flags);
    if (!(await healthy(endpoint))) {
      try {
        await run(join(SCRIPTS, 'start.sh'), [String(new URL(endpoint).port)], { timeout: 600_000 });
      } catch (error) {
        const e = error as { stderr?: string; message: string };
        throw new CliExit(EXIT_NEGATIVE, `cannot start MiniStack on ${endpoint}: ${e.stderr || e.message}`);
      }
    }
    process.stdout.write(environment(endpoint));
  });

  port(emulator.command('env').description('print the environment for a running emulator (eval)')).action(
    async (flags: PortFlags) => {
      const endpoint = endpointOf(flags);
      if (!(await healthy(endpoint)))
        throw new CliExit(EXIT_NEGATIVE, `no emulator answers ${endpoint}: start it with bcs emulator up`);
      process.stdout.write(environment(endpoint));
    },
  );

  port(
    emulator
      .command('down')
      .description('stop the MiniStack that bcs emulator up started (its state is discarded)'),
  ).action(async (flags: PortFlags) => {
    const endpoint = endpointOf(flags);
    await run(join(SCRIPTS, 'stop.sh'), [String(new URL(endpoint).port)], { timeout: 120_000 });
    process.stdout.write(
      'unset AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 LOCALSTACK_ENDPOINT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY\n',
    );
  });
  return emulator;
}

function endpointOf(flags: PortFlags): string {
  const raw = flags.port ?? (process.env.EMULATOR_PORT ? Number(process.env.EMULATOR_PORT) : DEFAULT_PORT);
  const { '--port': port } = parseOrThrow(portSchema, { '--port': raw }, 'invalid options');
  return `http://127.0.0.1:${port}`;
}

async function healthy(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/_localstack/health`, { signal: AbortSignal.timeout(5000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * The shell lines that point every AWS client at the emulator with its dummy credentials. A session
 * token or profile from the shell would otherwise be sent along (or chosen instead), so they are unset.
 */
export function environment(endpoint: string): string {
  const vars: [string, string][] = [
    ['AWS_ENDPOINT_URL', endpoint],
    ['AWS_ENDPOINT_URL_S3', endpoint],
    ['LOCALSTACK_ENDPOINT', endpoint],
    ['AWS_ACCESS_KEY_ID', 'test'],
    ['AWS_SECRET_ACCESS_KEY', 'test'],
    ['AWS_REGION', 'us-east-1'],
    ['AWS_DEFAULT_REGION', 'us-east-1'],
  ];
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(endpoint))
    throw new CliExit(EXIT_USAGE, `bad endpoint ${endpoint}`);
  return `${vars.map(([k, v]) => `export ${k}=${v}`).join('\n')}\nunset AWS_SESSION_TOKEN AWS_PROFILE\n`;
}
