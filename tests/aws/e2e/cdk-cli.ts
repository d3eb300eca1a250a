import { join } from 'node:path';
import { bootstrap as cdkBootstrap, deploy as cdkDeploy, destroy as cdkDestroy } from '../../../cli/cdk';

/**
 * The pinned CDK CLI against the emulator, through the same functions as `bcs deploy --emulator` and
 * `bcs destroy --emulator` (cli/cdk.ts), so the recipe in docs/aws.md and the tests cannot drift apart.
 */

/** The environment `bcs emulator up` prints, for the CLI to talk to the emulator instead of AWS. */
function cliEnv(endpoint: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
  };
}

// Progress is collected and shown only when a command fails.
const quiet = (endpoint: string, outDir?: string) => ({
  env: cliEnv(endpoint),
  progress: null,
  ...(outDir ? { output: join(outDir, 'cdk.out') } : {}),
});

export async function bootstrap(endpoint: string): Promise<void> {
  await cdkBootstrap(true, quiet(endpoint));
}

/** Deploys the app with `context` and returns the stack's outputs. */
export function deploy(
  endpoint: string,
  stackName: string,
  context: Record<string, string>,
  outDir: string,
): Promise<Record<string, string>> {
  return cdkDeploy(stackName, context, quiet(endpoint, outDir));
}

export async function destroy(
  endpoint: string,
  stackName: string,
  context: Record<string, string>,
  outDir: string,
): Promise<void> {
  await cdkDestroy(stackName, context, quiet(endpoint, outDir));
}
