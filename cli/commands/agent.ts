import { Command } from 'commander';
import { z } from 'zod';
import { Agent } from '../../agent/agent';
import { CommandExecutor, realSleep, SimulatedExecutor } from '../../agent/executor';
import { AgentHttp } from '../../agent/http';
import { HttpPollSource } from '../../agent/http-source';
import { jsonLog } from '../../agent/log';
import { HttpSchedulerApi } from '../../agent/scheduler-api';
import { parseOrThrow } from '../../lib/errors';
import { systemClock } from '../../lib/ports/clock';
import { vmIdSchema } from '../../lib/schemas/http';
import { CliExit, EXIT_NEGATIVE, EXIT_USAGE } from '../exit';
import { intOption, numberOption } from '../options';

interface AgentFlags {
  url: string;
  vm: string;
  token?: string;
  concurrency: number;
  allowCommands?: boolean;
  once?: boolean;
  speed: number;
  wait: number;
  maxOutput: number;
}

// Keyed by flag name, so that a ValidationError names the flag the user typed.
const flagsSchema = z.object({
  '--url': z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
  '--vm': vmIdSchema,
  '--token': z.string().min(1, 'must not be empty').optional(),
  '--concurrency': z.number().int().min(1).max(256),
  '--speed': z.number().finite().min(0.001).max(1_000_000),
  '--wait': z.number().int().min(0).max(30),
  '--max-output': z
    .number()
    .int()
    .min(0)
    .max(16 * 1024 * 1024),
});

/**
 * `bcs agent`: runs on a VM added with "managed": "agent", takes its assignments from the feed,
 * runs them and reports each completion (docs/agent.md). JSON log lines on stderr; the summary
 * as JSON on stdout when it exits.
 */
export function agentCommand(): Command {
  return new Command('agent')
    .description("run an agent-managed VM's assignments and report their completion (docs/agent.md)")
    .requiredOption('--url <url>', 'server URL, e.g. http://127.0.0.1:8080')
    .requiredOption('--vm <id>', 'the VM this agent runs (added with "managed": "agent")')
    .option('--token <token>', 'bearer token (env BCS_TOKEN); never logged')
    .option('--concurrency <n>', 'assignments run at once', intOption, 4)
    .option('--allow-commands', 'run task commands with /bin/sh -c (default: simulate every task)')
    .option('--speed <x>', 'simulated tasks sleep duration / speed', numberOption, 1)
    .option('--wait <s>', 'long-poll wait for new work, seconds (0-30)', intOption, 20)
    .option('--max-output <bytes>', 'output kept per command', intOption, 64 * 1024)
    .option('--once', 'run what is assigned now, then exit')
    .action(async (flags: AgentFlags) => {
      const token = flags.token ?? process.env.BCS_TOKEN;
      parseOrThrow(
        flagsSchema,
        {
          '--url': flags.url,
          '--vm': flags.vm,
          '--token': token,
          '--concurrency': flags.concurrency,
          '--speed': flags.speed,
          '--wait': flags.wait,
          '--max-output': flags.maxOutput,
        },
        'invalid flags',
      );
      const http = new AgentHttp({ url: flags.url, ...(token === undefined ? {} : { token }) });
      const simulated = new SimulatedExecutor(flags.speed);
      const agent = new Agent({
        vmId: flags.vm,
        source: new HttpPollSource(http, flags.vm),
        api: new HttpSchedulerApi(http),
        executor: flags.allowCommands
          ? new CommandExecutor(simulated, { maxOutputBytes: flags.maxOutput })
          : simulated,
        clock: systemClock,
        sleep: realSleep,
        log: jsonLog(),
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
