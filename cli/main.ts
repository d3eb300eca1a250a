import { Command, CommanderError } from 'commander';
import { SchedulerError } from '../lib/errors';
import { agentCommand } from './commands/agent';
import { deployCommand, destroyCommand, outputsCommand } from './commands/deploy';
import { emulatorCommand } from './commands/emulator';
import { enqueueCommand } from './commands/enqueue';
import { fleetCommand } from './commands/fleet';
import { ledgerCommand } from './commands/ledger';
import { simulateCommand } from './commands/simulate';
import { CliExit, EXIT_USAGE } from './exit';

/**
 * The `bcs` command tree. `bcs start` (the local runtime) comes from bin/bcs.js as one of `local`:
 * nothing but bin/ imports runtime/, so the CLI's other commands load without the server.
 */
export function program(local: readonly Command[] = []): Command {
  const bcs = new Command('bcs')
    .description(
      'blockchain cloud scheduler: local runtime, ledger audit, load tools, and the AWS stack on an emulator or an account',
    )
    .exitOverride()
    .showHelpAfterError();
  for (const command of local) bcs.addCommand(command);
  return bcs
    .addCommand(ledgerCommand())
    .addCommand(enqueueCommand())
    .addCommand(simulateCommand())
    .addCommand(agentCommand())
    .addCommand(emulatorCommand())
    .addCommand(deployCommand())
    .addCommand(destroyCommand())
    .addCommand(outputsCommand())
    .addCommand(fleetCommand());
}

/** Runs the CLI and returns the exit code instead of exiting, so tests can call it in-process. */
export async function main(argv: readonly string[], local: readonly Command[] = []): Promise<number> {
  const cli = program(local);
  for (const command of [cli, ...cli.commands, ...cli.commands.flatMap((c) => c.commands)])
    command.exitOverride();
  try {
    refuseUnknownCommand(cli, argv.slice(2));
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

/**
 * Commander answers `bcs nosuch --help` with the general help and exit 0, as if the command existed;
 * so the first word after a command that has subcommands must name one of them (exit 2 otherwise).
 */
function refuseUnknownCommand(cli: Command, args: readonly string[]): void {
  let command = cli;
  for (const word of args) {
    if (command.commands.length === 0 || word.startsWith('-')) return;
    const next = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!next) {
      if (word === 'help') return;
      const path = [...parents(command).slice(1), word].join(' ');
      const known = command.commands.map((c) => c.name()).join(', ');
      throw new CliExit(EXIT_USAGE, `bcs: unknown command '${path}' (commands: ${known}; bcs --help)`);
    }
    command = next;
  }
}

function parents(command: Command): string[] {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names;
}
