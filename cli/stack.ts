import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import * as z from 'zod';
import { CliExit, EXIT_USAGE } from './exit';

/**
 * The deployed stack's outputs (cdk/lib/scheduler-stack.ts OUTPUTS), read with CloudFormation
 * DescribeStacks so that nobody copies an ARN or a URL by hand. The SDK's default chain gives the
 * credentials, the region and, on an emulator, the endpoint (AWS_ENDPOINT_URL).
 */
export type StackOutputs = Readonly<Record<string, string>>;

/** Stack names as CloudFormation allows them: a letter, then letters, digits and hyphens, 128 at most. */
export const stackNameSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'must be a CloudFormation stack name (letters, digits, hyphens)');

export async function readStackOutputs(
  stackName: string,
  client: CloudFormationClient = new CloudFormationClient({}),
): Promise<StackOutputs> {
  const name = stackNameSchema.safeParse(stackName);
  if (!name.success) throw new CliExit(EXIT_USAGE, `--stack: ${name.error.issues[0]!.message}`);
  try {
    const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = Stacks?.[0];
    if (!stack) throw new CliExit(EXIT_USAGE, `--stack: no stack named ${stackName}`);
    const outputs: Record<string, string> = {};
    for (const o of stack.Outputs ?? [])
      if (o.OutputKey && o.OutputValue) outputs[o.OutputKey] = o.OutputValue;
    return outputs;
  } catch (error) {
    if (error instanceof CliExit) throw error;
    const message = (error as Error).message;
    throw new CliExit(
      EXIT_USAGE,
      /does not exist/.test(message)
        ? `--stack: no stack named ${stackName} in ${await where(client)}`
        : `--stack: cannot describe ${stackName}: ${message}`,
    );
  } finally {
    client.destroy();
  }
}

async function where(client: CloudFormationClient): Promise<string> {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  return endpoint ? endpoint : `region ${await client.config.region()}`;
}

/** One output, or a usage error naming it and the stack (an older stack, or a prop that was off). */
export function stackOutput(outputs: StackOutputs, key: string, stackName: string): string {
  const value = outputs[key];
  if (value === undefined) {
    throw new CliExit(
      EXIT_USAGE,
      `--stack: ${stackName} has no output ${key} (outputs: ${Object.keys(outputs).sort().join(', ') || 'none'}); redeploy it with this version`,
    );
  }
  return value;
}

const EXECUTE_API_URL =
  /^https:\/\/([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?\/([^/]+)\/$/;

/**
 * The API base URL a client can reach, ending in `/`. On AWS the stack's ApiUrl. On a
 * LocalStack-compatible emulator (AWS_ENDPOINT_URL set) there is no execute-api DNS: the stage is
 * served at `<endpoint>/_aws/execute-api/<api id>/<stage>/`, the EmulatorApiPath output (rebuilt from
 * ApiUrl for a stack deployed before that output existed).
 */
export function apiBaseUrl(
  outputs: StackOutputs,
  stackName: string,
  endpoint: string | undefined = process.env.AWS_ENDPOINT_URL,
): string {
  const apiUrl = stackOutput(outputs, 'ApiUrl', stackName);
  if (!endpoint) return apiUrl;
  const base = endpoint.replace(/\/+$/, '');
  if (outputs.EmulatorApiPath) return `${base}${outputs.EmulatorApiPath}`;
  const match = EXECUTE_API_URL.exec(apiUrl);
  if (!match) throw new CliExit(EXIT_USAGE, `--stack: ApiUrl ${apiUrl} is not an execute-api URL`);
  return `${base}/_aws/execute-api/${match[1]}/${match[2]}/`;
}
