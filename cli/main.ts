import { Command, CommanderError } from 'commander';
import { SchedulerError } from '../lib/errors';
import { agentCommand } from './commands/agent';
import { enqueueCommand } from './commands/enqueue';
import { ledgerCommand } from './commands/ledger';
import { simulateCommand } from './commands/simulate';
import { startCommand } from './commands/start';
import { CliExit, EXIT_USAGE } from './exit';

export function program(): Command {
  return new Command('bcs')
    .description('blockchain cloud scheduler: local runtime, ledger audit and load tools')
    .exitOverride()
    .showHelpAfterError()
    .addCommand(startCommand())
    .addCommand(ledgerCommand())
    .addCommand(enqueueCommand())
    .addCommand(simulateCommand())
    .addCommand(agentCommand());
}

/** Runs the CLI and returns the exit code instead of exiting, so tests can call it in-process. */
export async function main(argv: readonly string[]): Promise<number> {
  const cli = program();
  for (const command of [cli, ...cli.commands, ...cli.commands.flatMap((c) => c.commands)])
    command.exitOverride();
  try {
    await cli.parseAsync([...argv]);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (error) {
    if (error instanceof CliExit) {
      if (error.message) console.error(error.message);
      return error.code;
    }
    if (error instanceof CommanderError) {
      // Help and version are successes; anything else commander refuses is a usage error.
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (error instanceof SchedulerError) {
      console.error(`bcs: ${error.message}`);
      return EXIT_USAGE;
    }
    console.error(`bcs: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return EXIT_USAGE;
  }
}
