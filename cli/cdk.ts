import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliExit, EXIT_USAGE } from './exit';

/**
 * The pinned CDK CLI (package.json aws-cdk), run from the repository root where cdk.json names the
 * app. Shared by `bcs deploy`/`bcs destroy` and the end-to-end test, so the recipe the docs give is
 * the one the tests run.
 */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CDK = join(ROOT, 'node_modules/.bin/cdk');

/**
 * Context a stack needs on a LocalStack-compatible emulator: `stage=test` lets the table go with the
 * stack, `cloudWatchRole=false` skips the account-level API Gateway logging role (an account setting
 * a shared emulator should not be given, and one MiniStack before 1.5.33 could not create).
 */
export const EMULATOR_CONTEXT: Readonly<Record<string, string>> = { stage: 'test', cloudWatchRole: 'false' };

/** MiniStack's account; bootstrap needs an explicit environment there (no STS identity to derive it from). */
export const EMULATOR_ACCOUNT = '000000000000';

export interface CdkRun {
  /** Environment of the CLI: credentials, region and, on the emulator, AWS_ENDPOINT_URL. */
  env?: NodeJS.ProcessEnv;
  /** Where cdk writes its progress (stderr of the caller by default); `null` collects it for errors only. */
  progress?: NodeJS.WritableStream | null;
  /** Cloud assembly directory, so that concurrent deploys from one checkout do not share cdk.out. */
  output?: string;
  /** Give cdk the terminal (stdin, and stdout on our stderr) so that it can ask for approval. */
  interactive?: boolean;
}

const contextArgs = (context: Readonly<Record<string, string>>) =>
  Object.entries(context).flatMap(([k, v]) => ['-c', `${k}=${v}`]);

async function cdk(args: string[], run: CdkRun): Promise<void> {
  const env = { ...(run.env ?? process.env), CDK_DISABLE_CLI_TELEMETRY: 'true' };
  const full = [...args, '--no-notices', '--no-color', ...(run.output ? ['--output', run.output] : [])];
  // Interactive: the terminal is cdk's, so that it can ask for approval of security-sensitive changes.
  const child = spawn(CDK, full, {
    cwd: ROOT,
    env,
    stdio: run.interactive ? ['inherit', process.stderr, 'inherit'] : ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const collect = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-8000);
    if (run.progress !== null) (run.progress ?? process.stderr).write(chunk);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const code = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c ?? 1));
  });
  if (code !== 0) {
    throw new CliExit(
      EXIT_USAGE,
      `cdk ${args[0]} failed (exit ${code})${run.progress === null ? `:\n${tail.slice(-4000)}` : ''}`,
    );
  }
}

/** `cdk bootstrap`, for the emulator's account and region or the credentials' default. */
export async function bootstrap(emulator: boolean, run: CdkRun = {}): Promise<void> {
  const region = (run.env ?? process.env).AWS_REGION || 'us-east-1';
  await cdk(['bootstrap', ...(emulator ? [`aws://${EMULATOR_ACCOUNT}/${region}`] : [])], run);
}

/**
 * `cdk deploy` of one stack with `context` (stackName added); returns the stack's outputs. Unless
 * interactive, with `--require-approval never`: a script has no TTY to answer the prompt, and cdk
 * stops at "security-sensitive updates ... TTY is not attached" without it.
 */
export async function deploy(
  stackName: string,
  context: Readonly<Record<string, string>>,
  run: CdkRun = {},
): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), 'bcs-deploy-'));
  try {
    const outputsFile = join(dir, 'outputs.json');
    await cdk(
      [
        'deploy',
        stackName,
        ...(run.interactive ? [] : ['--require-approval', 'never']),
        '--outputs-file',
        outputsFile,
        ...contextArgs({ ...context, stackName }),
      ],
      run,
    );
    const outputs = JSON.parse(await readFile(outputsFile, 'utf8')) as Record<string, Record<string, string>>;
    return outputs[stackName] ?? {};
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `cdk destroy --force` of one stack, synthesised with the context it was deployed with. */
export async function destroy(
  stackName: string,
  context: Readonly<Record<string, string>>,
  run: CdkRun = {},
): Promise<void> {
  await cdk(['destroy', stackName, '--force', ...contextArgs({ ...context, stackName })], run);
}
