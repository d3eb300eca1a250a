import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** The pinned CLI (package.json aws-cdk 2.1148.1), never a global one. */
const CDK = join(ROOT, 'node_modules/.bin/cdk');

/** The environment the CLI needs to talk to the emulator instead of AWS. */
function cliEnv(endpoint: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
  };
}

async function cdk(endpoint: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(CDK, [...args, '--no-notices', '--no-color'], {
      cwd: ROOT,
      env: cliEnv(endpoint),
      timeout: 600_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return `${stdout}\n${stderr}`;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`cdk ${args[0]} failed: ${e.message}\n${(e.stderr ?? '').slice(-4000)}`);
  }
}

const contextArgs = (context: Record<string, string>) =>
  Object.entries(context).flatMap(([k, v]) => ['-c', `${k}=${v}`]);

export async function bootstrap(endpoint: string): Promise<void> {
  await cdk(endpoint, ['bootstrap', 'aws://000000000000/us-east-1']);
}

/** Deploys the app with `context` and returns the stack's outputs. */
export async function deploy(
  endpoint: string,
  stackName: string,
  context: Record<string, string>,
  outDir: string,
): Promise<Record<string, string>> {
  const outputsFile = join(outDir, 'outputs.json');
  await cdk(endpoint, [
    'deploy',
    stackName,
    '--require-approval',
    'never',
    '--output',
    join(outDir, 'cdk.out'),
    '--outputs-file',
    outputsFile,
    ...contextArgs({ ...context, stackName }),
  ]);
  const outputs = JSON.parse(await readFile(outputsFile, 'utf8')) as Record<string, Record<string, string>>;
  return outputs[stackName]!;
}

export async function destroy(
  endpoint: string,
  stackName: string,
  context: Record<string, string>,
  outDir: string,
): Promise<void> {
  await cdk(endpoint, [
    'destroy',
    stackName,
    '--force',
    '--output',
    join(outDir, 'cdk.out'),
    ...contextArgs({ ...context, stackName }),
  ]);
}
