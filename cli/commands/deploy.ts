import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { bootstrap, deploy, destroy, EMULATOR_CONTEXT } from '../cdk';
import { CliExit, EXIT_USAGE } from '../exit';
import { apiBaseUrl, readStackOutputs, stackNameSchema, stackOutput } from '../stack';
import {
  deleteRetained,
  KEY_PENDING_DAYS,
  type RetainedResources,
  refuseObjectLockedBuckets,
  retainedResources,
} from '../stack-teardown';

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
 * `bcs destroy`: cdk destroy of the stack. Outside stage=test the ledger table (with deletion
 * protection), the task queues, the log bucket, the log groups and the KMS keys are retained;
 * `--delete-retained` deletes them too, after a confirmation (docs/aws.md "Tear down").
 */
export function destroyCommand(): Command {
  return new Command('destroy')
    .description(
      'cdk destroy the stack; --delete-retained also deletes what it keeps (docs/aws.md "Tear down")',
    )
    .option('--stack <name>', 'CloudFormation stack name', DEFAULT_STACK)
    .option('--emulator', 'the stack bcs deploy --emulator deployed')
    .option('-c, --context <key=value>', 'cdk context it was deployed with, repeatable', contextOption, {})
    .option(
      '--delete-retained',
      'also delete the retained ledger table (deletion protection off first), queues, log bucket (every object version), log groups, and schedule the KMS keys for deletion',
    )
    .option('--yes', 'confirm --delete-retained without a prompt (required when stdin is not a terminal)')
    .action(async (flags: Omit<DeployFlags, 'bootstrap'> & { deleteRetained?: boolean; yes?: boolean }) => {
      const name = stackName(flags);
      if (flags.emulator) emulatorEnvironment();
      if (flags.yes && !flags.deleteRetained)
        throw new CliExit(EXIT_USAGE, '--yes: only with --delete-retained');
      let retained: RetainedResources | undefined;
      if (flags.deleteRetained) {
        if (!flags.yes && !process.stdin.isTTY) throw new CliExit(EXIT_USAGE, noConfirmation(name));
        retained = await retainedResources(name);
        await refuseObjectLockedBuckets(retained.buckets, name);
        if (!flags.yes) await confirmDeletion(name, retained);
      }
      await destroy(
        name,
        { ...(flags.emulator ? EMULATOR_CONTEXT : {}), ...flags.context },
        { interactive: !flags.emulator },
      );
      console.error(`bcs: ${name} destroyed`);
      if (retained) {
        await deleteRetained(retained, (line) => console.error(`bcs: ${line}`));
        console.error(`bcs: ${name}'s retained resources deleted`);
      }
    });
}

const noConfirmation = (name: string) =>
  `--delete-retained deletes ${name}'s ledger table (the audit record) and everything else it keeps: give --yes to confirm when stdin is not a terminal; nothing was deleted`;

/** Lists what --delete-retained deletes and asks for the stack's name at the terminal. */
async function confirmDeletion(name: string, retained: RetainedResources): Promise<void> {
  const listed = [
    ...retained.tables.map(
      (t) => `table ${t} (the ledger: export it first, bcs ledger export --stack ${name})`,
    ),
    ...retained.queues.map((q) => `queue ${q}`),
    ...retained.buckets.map((b) => `bucket ${b} and every object version in it`),
    ...retained.logGroups.map((g) => `log group ${g} (if it exists)`),
    ...retained.keys.map((k) => `KMS key ${k} (scheduled for deletion in ${KEY_PENDING_DAYS} days)`),
  ];
  console.error(`bcs destroy --delete-retained will delete the stack ${name} and:\n  ${listed.join('\n  ')}`);
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`Type the stack name (${name}) to confirm: `);
    if (answer.trim() !== name) throw new CliExit(EXIT_USAGE, 'not confirmed: nothing was deleted');
  } finally {
    prompt.close();
  }
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
