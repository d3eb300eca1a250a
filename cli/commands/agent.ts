import { SQSClient } from '@aws-sdk/client-sqs';
import { Command } from 'commander';
import * as z from 'zod';
import { Agent } from '../../agent/agent';
import { CommandExecutor, realSleep, SimulatedExecutor } from '../../agent/executor';
import { AgentHttp, type RequestSigner } from '../../agent/http';
import { HttpPollSource } from '../../agent/http-source';
import { jsonLog } from '../../agent/log';
import { HttpSchedulerApi } from '../../agent/scheduler-api';
import { agentQueueName } from '../../lib/adapters/sqs/agent-feed';
import { SqsAssignmentSource } from '../../lib/adapters/sqs/assignment-source';
import { parseOrThrow } from '../../lib/errors';
import type { AssignmentSource } from '../../lib/ports/assignment-source';
import { systemClock } from '../../lib/ports/clock';
import { vmIdSchema } from '../../lib/schemas/http';
import { awsSigv4Signer, signingRegion } from '../aws-sigv4';
import { CliExit, EXIT_NEGATIVE, EXIT_USAGE } from '../exit';
import { intOption, numberOption } from '../options';
import { oneWayToAuthenticate } from '../remote';
import { apiBaseUrl, readStackOutputs } from '../stack';

interface AgentFlags {
  url?: string;
  /** A deployed stack: its API URL from the outputs instead of --url (cli/stack.ts). */
  stack?: string;
  vm: string;
  token?: string;
  apiKey?: string;
  awsSigv4?: string | true;
  queueUrl?: string;
  /** From --stack: the stack's agent queues are `<prefix><vm id>` (its AgentQueuePrefix output). */
  queuePrefix?: string;
  concurrency: number;
  allowCommands?: boolean;
  once?: boolean;
  speed: number;
  wait: number;
  maxOutput: number;
}

// Keyed by flag name, so that a ValidationError names the flag the user typed.
const flagsSchema = z
  .object({
    '--url': z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    '--vm': vmIdSchema,
    '--token': z.string().min(1, 'must not be empty').optional(),
    '--api-key': z
      .string()
      .regex(/^[\x21-\x7e]{20,128}$/, 'must be 20-128 printable ASCII characters (an API Gateway key)')
      .optional(),
    '--aws-sigv4': z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'not an AWS region (e.g. us-east-1)')
      .optional(),
    sigv4: z.boolean(),
    '--queue-url': z.url({ protocol: /^https?$/, error: 'must be an SQS queue URL' }).optional(),
    '--concurrency': z.number().int().min(1).max(256),
    '--speed': z.number().finite().min(0.001).max(1_000_000),
    '--wait': z.number().int().min(0).max(30),
    '--max-output': z
      .number()
      .int()
      .min(0)
      .max(16 * 1024 * 1024),
  })
  .superRefine(oneWayToAuthenticate);

/**
 * `bcs agent`: runs on a VM added with "managed": "agent", takes its assignments from the feed,
 * runs them and reports each completion (docs/agent.md). JSON log lines on stderr; the summary
 * as JSON on stdout when it exits.
 */
export function agentCommand(): Command {
  return new Command('agent')
    .description("run an agent-managed VM's assignments and report their completion (docs/agent.md)")
    .option('--url <url>', 'server URL, e.g. http://127.0.0.1:8080, or the API URL of the AWS stack')
    .option(
      '--stack <name>',
      "instead of --url: the deployed AWS stack's API and this VM's queue (deployed with agents=true), read from its outputs; SigV4 by default, as its authMode=iam",
    )
    .requiredOption('--vm <id>', 'the VM this agent runs (added with "managed": "agent")')
    .option('--token <token>', 'bearer token of the local runtime (env BCS_TOKEN); never logged')
    .option('--api-key <key>', 'AWS stack: API Gateway key for the completion calls (authMode=api-key)')
    .option('--aws-sigv4 [region]', 'AWS stack: sign the completion calls with SigV4 (authMode=iam)')
    .option(
      '--queue-url <url>',
      "AWS: take TaskAssigned events from this SQS queue (default with --stack: the stack's queue for --vm)",
    )
    .option('--concurrency <n>', 'assignments run at once', intOption, 4)
    .option('--allow-commands', 'run task commands with /bin/sh -c (default: simulate every task)')
    .option('--speed <x>', 'simulated tasks sleep duration / speed', numberOption, 1)
    .option('--wait <s>', 'long-poll wait for new work, seconds (0-30)', intOption, 20)
    .option('--max-output <bytes>', 'output kept per command', intOption, 64 * 1024)
    .option('--once', 'run what is assigned now, then exit')
    .action(async (given: AgentFlags) => {
      const flags = await resolveAgentStack(given);
      const aws = flags.apiKey !== undefined || flags.awsSigv4 !== undefined;
      // BCS_TOKEN is the local runtime's; it does not count against --api-key or --aws-sigv4.
      const token = flags.token ?? (aws ? undefined : process.env.BCS_TOKEN);
      parseOrThrow(
        flagsSchema,
        {
          '--url': flags.url,
          '--vm': flags.vm,
          '--token': token,
          '--api-key': flags.apiKey,
          '--aws-sigv4': flags.awsSigv4 === true ? undefined : flags.awsSigv4,
          sigv4: flags.awsSigv4 !== undefined,
          '--queue-url': flags.queueUrl,
          '--concurrency': flags.concurrency,
          '--speed': flags.speed,
          '--wait': flags.wait,
          '--max-output': flags.maxOutput,
        },
        'invalid flags',
      );
      const log = jsonLog();
      const sign = signer(flags);
      const http = new AgentHttp({
        url: flags.url!,
        ...(token === undefined ? {} : { token }),
        ...(sign ? { sign } : {}),
      });
      const queue =
        flags.queueUrl !== undefined
          ? { url: flags.queueUrl }
          : flags.queuePrefix !== undefined
            ? { name: queueNameOf(flags.queuePrefix, flags.vm) }
            : undefined;
      const source: AssignmentSource =
        queue === undefined
          ? new HttpPollSource(http, flags.vm)
          : new SqsAssignmentSource({ client: new SQSClient({}), queue, vmId: flags.vm, log });
      const simulated = new SimulatedExecutor(flags.speed);
      const agent = new Agent({
        vmId: flags.vm,
        source,
        api: new HttpSchedulerApi(http),
        executor: flags.allowCommands
          ? new CommandExecutor(simulated, { maxOutputBytes: flags.maxOutput })
          : simulated,
        clock: systemClock,
        sleep: realSleep,
        log,
        concurrency: flags.concurrency,
        waitS: flags.wait,
        once: flags.once === true,
      });
      // First signal: finish what runs and report it; second: cut it off (the leases expire it).
      const onSignal = () => agent.stop();
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      try {
        const summary = await agent.run();
        console.log(JSON.stringify(summary));
        // Some run ended without a recorded completion: its lease expiry will record it.
        if (summary.unreported + summary.timed_out > 0) process.exitCode = EXIT_NEGATIVE;
      } catch (error) {
        throw new CliExit(EXIT_USAGE, `bcs agent: ${(error as Error).message}`);
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
    });
}

/**
 * `--stack NAME`: the API base URL from the stack's outputs (on the emulator when AWS_ENDPOINT_URL is
 * set), and SigV4 unless --api-key is given, as the stack's default authMode=iam wants; a stack
 * deployed with authMode=api-key (an ApiKeyId output) needs --api-key. The VM's queue is the stack's
 * (`<AgentQueuePrefix><vm id>`, a stack deployed with agents=true) unless --queue-url names another.
 */
async function resolveAgentStack(flags: AgentFlags): Promise<AgentFlags> {
  if (flags.stack === undefined) {
    if (flags.url === undefined) throw new CliExit(EXIT_USAGE, 'give one of --url, --stack');
    return flags;
  }
  if (flags.url !== undefined) throw new CliExit(EXIT_USAGE, 'give one of --url, --stack');
  if (flags.token !== undefined) throw new CliExit(EXIT_USAGE, '--token is for --url (the local runtime)');
  const outputs = await readStackOutputs(flags.stack);
  const url = apiBaseUrl(outputs, flags.stack);
  let queuePrefix: string | undefined;
  if (flags.queueUrl === undefined) {
    queuePrefix = outputs.AgentQueuePrefix;
    if (queuePrefix === undefined) {
      throw new CliExit(
        EXIT_USAGE,
        `--stack: ${flags.stack} has no agent queues (deploy it with agents=true, docs/agent.md "On AWS"), or give --queue-url`,
      );
    }
  }
  const resolved = { ...flags, url, ...(queuePrefix === undefined ? {} : { queuePrefix }) };
  if (flags.apiKey !== undefined || flags.awsSigv4 !== undefined) return resolved;
  if (outputs.ApiKeyId !== undefined) {
    throw new CliExit(
      EXIT_USAGE,
      `--stack: ${flags.stack} is deployed with authMode=api-key: give --api-key`,
    );
  }
  return { ...resolved, awsSigv4: true };
}

function queueNameOf(prefix: string, vmId: string): string {
  try {
    return agentQueueName(prefix, vmId);
  } catch (error) {
    throw new CliExit(EXIT_USAGE, `--vm: ${(error as Error).message}`);
  }
}

/** API Gateway authentication for the AWS stack; none for the local runtime (the token is used). */
function signer(flags: AgentFlags): RequestSigner | undefined {
  if (flags.apiKey !== undefined) {
    const headers = { 'x-api-key': flags.apiKey };
    return async () => headers;
  }
  if (flags.awsSigv4 === undefined) return undefined;
  const region = signingRegion(flags.awsSigv4 === true ? undefined : flags.awsSigv4, new URL(flags.url!));
  return awsSigv4Signer(region);
}
