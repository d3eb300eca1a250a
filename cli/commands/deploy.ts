import { Command } from 'commander';
import { bootstrap, deploy, destroy, EMULATOR_CONTEXT } from '../cdk';
import { CliExit, EXIT_USAGE } from '../exit';
import { apiBaseUrl, readStackOutputs, stackNameSchema, stackOutput } from '../stack';

interface DeployFlags {
  stack: string;
  emulator?: boolean;
  context: Record<string, string>;
  bootstrap: boolean;
}

const DEFAULT_STACK = 'BlockchainCloudScheduler';
const CONTEXT = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/s;

function contextOption(value: string, previous: Record<string, string>): Record<string, string> {
  const match = CONTEXT.exec(value);
  if (!match)
    throw new CliExit(EXIT_USAGE, `-c, --context: ${value} is not key=value (docs/aws.md context table)`);
  return { ...previous, [match[1]!]: match[2]! };
}

function stackName(flags: { stack: string }): string {
  const parsed = stackNameSchema.safeParse(flags.stack);
  if (!parsed.success) throw new CliExit(EXIT_USAGE, `--stack: ${parsed.error.issues[0]!.message}`);
  return parsed.data;
}

/** On the emulator the endpoint comes from the environment `bcs emulator up` prints. */
function emulatorEnvironment(): void {
  if (!process.env.AWS_ENDPOINT_URL)
    throw new CliExit(EXIT_USAGE, '--emulator: AWS_ENDPOINT_URL is not set: eval "$(bcs emulator up)" first');
}

/**
 * `bcs deploy`: cdk bootstrap and deploy with the pinned CLI, then the API base URL a client can
 * reach on stdout (the emulator's data-plane form with --emulator). cdk's progress goes to stderr.
 */
export function deployCommand(): Command {
  return new Command('deploy')
    .description('bootstrap and deploy the stack with the pinned cdk; prints the API base URL')
    .option('--stack <name>', 'CloudFormation stack name', DEFAULT_STACK)
    .option(
      '--emulator',
      'deploy onto the emulator in AWS_ENDPOINT_URL with -c stage=test -c cloudWatchRole=false',
    )
    .option('-c, --context <key=value>', 'cdk context, repeatable (docs/aws.md)', contextOption, {})
    .option('--no-bootstrap', 'skip cdk bootstrap (done once per account and region)')
    .action(async (flags: DeployFlags) => {
      const name = stackName(flags);
      if (flags.emulator) emulatorEnvironment();
      else if (process.env.AWS_ENDPOINT_URL)
        throw new CliExit(
          EXIT_USAGE,
          'AWS_ENDPOINT_URL is set: give --emulator, or unset it to deploy to AWS',
        );
      const context = { ...(flags.emulator ? EMULATOR_CONTEXT : {}), ...flags.context };
      // On AWS cdk gets the terminal, so that it can ask before security-sensitive changes.
      const run = { interactive: !flags.emulator };
      if (flags.bootstrap) await bootstrap(flags.emulator === true, run);
      const outputs = await deploy(name, context, run);
      for (const [k, v] of Object.entries(outputs).sort()) console.error(`${name}.${k} = ${v}`);
      console.log(apiBaseUrl(outputs, name, flags.emulator ? process.env.AWS_ENDPOINT_URL : undefined));
    });
}

/**
 * `bcs destroy`: cdk destroy of the stack. Outside stage=test the ledger table has deletion protection
 * and is retained with the log groups (docs/aws.md "Tear down").
 */
export function destroyCommand(): Command {
  return new Command('destroy')
    .description('cdk destroy the stack (stage=test only removes the ledger table; docs/aws.md "Tear down")')
    .option('--stack <name>', 'CloudFormation stack name', DEFAULT_STACK)
    .option('--emulator', 'the stack bcs deploy --emulator deployed')
    .option('-c, --context <key=value>', 'cdk context it was deployed with, repeatable', contextOption, {})
    .action(async (flags: Omit<DeployFlags, 'bootstrap'>) => {
      const name = stackName(flags);
      if (flags.emulator) emulatorEnvironment();
      await destroy(
        name,
        { ...(flags.emulator ? EMULATOR_CONTEXT : {}), ...flags.context },
        { interactive: !flags.emulator },
      );
      console.error(`bcs: ${name} destroyed`);
    });
}

/**
 * `bcs outputs`: the stack's outputs (DescribeStacks), all as KEY=value lines or one value, so that a
 * script reads TableName or DigestKeyArn instead of someone copying them.
 */
export function outputsCommand(): Command {
  return new Command('outputs')
    .description("a deployed stack's outputs: every KEY=value, or the value of one key")
    .option('--stack <name>', 'CloudFormation stack name', DEFAULT_STACK)
    .argument('[key]', 'one output, e.g. TableName, DigestKeyArn, ApiBaseUrl (the URL a client reaches)')
    .action(async (key: string | undefined, flags: { stack: string }) => {
      const name = stackName(flags);
      const outputs = await readStackOutputs(name);
      // ApiBaseUrl is derived: the API as reachable from here (the emulator's data plane when AWS_ENDPOINT_URL is set).
      const all = { ...outputs, ApiBaseUrl: apiBaseUrl(outputs, name) };
      if (key !== undefined) console.log(stackOutput(all, key, name));
      else for (const [k, v] of Object.entries(all).sort()) console.log(`${k}=${v}`);
    });
}
