import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import {
  type _InstanceType,
  DescribeInstancesCommand,
  EC2Client,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { Command } from 'commander';
import * as z from 'zod';
import { parseOrThrow } from '../../lib/errors';
import { launchWorkers, publishUsage, type WorkerUsage } from '../emulator-fleet';
import { CliExit, EXIT_USAGE } from '../exit';
import { intOption, numberOption } from '../options';

interface UsageFlags {
  cpu: number;
  mem: number;
  io: number;
  net: number;
}

const percent = z.number().min(0, 'must be 0-100').max(100, 'must be 0-100');
const bytes = z.number().min(0, 'must be >= 0');
const usageSchema = z.object({ '--cpu': percent, '--mem': percent, '--io': bytes, '--net': bytes });
const launchSchema = z.object({
  '--count': z.number().int().min(1, 'must be 1-100').max(100, 'must be 1-100'),
  '--type': z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'must be an EC2 instance type, e.g. t3.medium'),
  '--tag-key': z.string().min(1, 'must not be empty').max(128),
  '--pool': z.string().min(1, 'must not be empty').max(256),
});
const instanceIdSchema = z.string().regex(/^i-[0-9a-f]{8,17}$/, 'must be an instance id (i-...)');

/**
 * `bcs fleet launch|usage`: worker instances and their CloudWatch metrics on the emulator, so that the
 * deployed scheduler has a fleet to place on without an AWS account. On AWS, launch instances your
 * way and tag them (docs/aws.md "Worker instances"); their metrics come from EC2 itself.
 */
export function fleetCommand(): Command {
  const fleet = new Command('fleet').description(
    'emulator only: launch tagged worker instances and publish their metrics (docs/aws.md walkthrough)',
  );
  const usage = (command: Command) =>
    command
      .option('--cpu <percent>', 'CPUUtilization to report', numberOption, 20)
      .option('--mem <percent>', 'mem_used_percent to report (CWAgent)', numberOption, 0)
      .option('--io <bytes>', 'EBS bytes read+written per minute', numberOption, 0)
      .option('--net <bytes>', 'network bytes in+out per minute', numberOption, 0);

  usage(
    fleet
      .command('launch')
      .description(
        'RunInstances tagged for the stack, plus two closed minutes of metrics each; prints the ids',
      )
      .option('--count <n>', 'instances to launch (1-100)', intOption, 2)
      .option('--type <type>', 'instance type', 't3.medium')
      .option('--tag-key <key>', 'the stack selector key (context vmTagKey)', 'bcs:pool')
      .option('--pool <value>', 'the stack selector value (context vmTagValue)', 'workers'),
  ).action(async (flags: UsageFlags & { count: number; type: string; tagKey: string; pool: string }) => {
    const valid = parseOrThrow(
      launchSchema,
      { '--count': flags.count, '--type': flags.type, '--tag-key': flags.tagKey, '--pool': flags.pool },
      'invalid options',
    );
    const workerUsage = usageOf(flags);
    const { ec2, cloudWatch } = emulatorClients();
    try {
      const ids = await launchWorkers(ec2, cloudWatch, {
        pool: valid['--pool'],
        tagKey: valid['--tag-key'],
        types: Array<_InstanceType>(valid['--count']).fill(valid['--type'] as _InstanceType),
        usage: workerUsage,
      });
      for (const id of ids) console.log(id);
      console.error(note);
    } finally {
      ec2.destroy();
      cloudWatch.destroy();
    }
  });

  usage(
    fleet
      .command('usage')
      .description('publish two more closed minutes of metrics for instances')
      .argument('<instance-id...>', 'instances to report for'),
  ).action(async (ids: string[], flags: UsageFlags) => {
    for (const id of ids)
      parseOrThrow(
        z.object({ '<instance-id>': instanceIdSchema }),
        { '<instance-id>': id },
        'invalid arguments',
      );
    const workerUsage = usageOf(flags);
    const { ec2, cloudWatch } = emulatorClients();
    try {
      for (const id of ids) await publishUsage(cloudWatch, id, workerUsage);
      console.error(note);
    } finally {
      ec2.destroy();
      cloudWatch.destroy();
    }
  });
  fleet
    .command('terminate')
    .description('terminate the running instances carrying the selector tag')
    .option('--tag-key <key>', 'the stack selector key (context vmTagKey)', 'bcs:pool')
    .option('--pool <value>', 'the stack selector value (context vmTagValue)', 'workers')
    .action(async (flags: { tagKey: string; pool: string }) => {
      const { ec2, cloudWatch } = emulatorClients();
      try {
        const ids: string[] = [];
        let token: string | undefined;
        do {
          const page = await ec2.send(
            new DescribeInstancesCommand({
              Filters: [
                { Name: `tag:${flags.tagKey}`, Values: [flags.pool] },
                { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
              ],
              NextToken: token,
            }),
          );
          for (const r of page.Reservations ?? [])
            for (const i of r.Instances ?? []) if (i.InstanceId) ids.push(i.InstanceId);
          token = page.NextToken;
        } while (token);
        if (ids.length > 0) await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }));
        for (const id of ids) console.log(id);
        console.error(`bcs: ${ids.length} instance(s) terminated`);
      } finally {
        ec2.destroy();
        cloudWatch.destroy();
      }
    });
  return fleet;
}

const note =
  'bcs: usage is stamped in the two closed minutes before now (a minute still filling is not read); a warm scheduler sees new instances and usage once its fleet cache expires (fleetCacheTtlSeconds, 30 s by default)';

function usageOf(flags: UsageFlags): WorkerUsage {
  const valid = parseOrThrow(
    usageSchema,
    { '--cpu': flags.cpu, '--mem': flags.mem, '--io': flags.io, '--net': flags.net },
    'invalid options',
  );
  return {
    cpuPercent: valid['--cpu'],
    memPercent: valid['--mem'],
    ioBytesPerMinute: valid['--io'],
    netBytesPerMinute: valid['--net'],
  };
}

/** Clients on the emulator; refuses to launch anything in a real account. */
function emulatorClients(): { ec2: EC2Client; cloudWatch: CloudWatchClient } {
  if (!process.env.AWS_ENDPOINT_URL) {
    throw new CliExit(
      EXIT_USAGE,
      'bcs fleet is for the emulator: AWS_ENDPOINT_URL is not set (eval "$(bcs emulator up)"); on AWS, tag your instances (docs/aws.md "Worker instances")',
    );
  }
  return { ec2: new EC2Client({}), cloudWatch: new CloudWatchClient({}) };
}
