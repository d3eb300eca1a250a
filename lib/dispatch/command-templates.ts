import * as z from 'zod';

/**
 * The allow-list of commands SSM dispatch may run (docs/aws.md, "Commands on the fleet"). A task's
 * `command` names a template and gives its arguments, separated by single spaces:
 * `<template> [argument ...]`. Only a template of the list runs, with arguments that match its
 * pattern, as the instances' unprivileged task user: no shell ever reads the task's text. The same
 * rules are enforced three times: here before the dispatcher sends anything, by the SSM document's
 * `allowedValues`/`allowedPattern` (SSM refuses other parameters at SendCommand), and by the
 * document's script, which runs the template's installed program with the arguments as words.
 */

/** A template name: also a file name under TEMPLATE_DIR on the instances. */
export const TEMPLATE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
/**
 * What any argument may be, whatever its template says: no white space, quote, `$`, backquote, `;`,
 * `&`, `|`, redirection, glob or escape character, so the words reach the program as sent.
 */
export const SAFE_ARGUMENT_SOURCE = '[A-Za-z0-9_.,:=@%+/-]{1,256}';
const SAFE_ARGUMENT = new RegExp(`^${SAFE_ARGUMENT_SOURCE}$`);
/** Most arguments a command may have (the SSM document's pattern allows as many). */
export const MAX_ARGUMENTS = 32;
/** Where the instances keep one executable file per template (root-owned, written at boot). */
export const TEMPLATE_DIR = '/opt/bcs/templates';
/** The unprivileged user commands run as on the instances. */
export const TASK_USER = 'bcs-task';

/** The SSM document's allowedPattern for the space-separated arguments: empty, or 1..MAX_ARGUMENTS words. */
export const ARGUMENTS_PATTERN = `^$|^${SAFE_ARGUMENT_SOURCE}( ${SAFE_ARGUMENT_SOURCE}){0,${MAX_ARGUMENTS - 1}}$`;

export interface CommandTemplate {
  /** The program (an absolute path) and its fixed arguments, run with the task's arguments after them. */
  readonly run: readonly string[];
  /**
   * A regular expression each task argument must match whole (it can only narrow the safe set).
   * @default any safe argument
   */
  readonly argumentPattern?: string;
  /** @default 0: the template takes no arguments */
  readonly maxArguments?: number;
}

export type CommandTemplates = Readonly<Record<string, CommandTemplate>>;

const validPattern = (source: string) => {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
};

export const commandTemplateSchema = z.strictObject({
  run: z
    .array(
      z
        .string()
        .min(1)
        .max(1024)
        .regex(/^[^\0\n]*$/, 'must not hold NUL or newline'),
    )
    .min(1)
    .max(64)
    .refine((run) => run[0]!.startsWith('/'), 'must start with the program as an absolute path'),
  argumentPattern: z.string().min(1).max(512).refine(validPattern, 'must be a regular expression').optional(),
  maxArguments: z.int().min(0).max(MAX_ARGUMENTS).optional(),
});

export const commandTemplatesSchema = z
  .record(z.string().regex(TEMPLATE_NAME, `must match ${TEMPLATE_NAME}`), commandTemplateSchema)
  .refine((t) => Object.keys(t).length <= 100, 'at most 100 templates');

export class CommandNotAllowedError extends Error {
  override name = 'CommandNotAllowedError';
}

/** The template and arguments of a task's command; throws CommandNotAllowedError naming what is wrong. */
export function parseTemplateCommand(
  command: string,
  templates: CommandTemplates,
): { template: string; arguments: string[] } {
  const [name = '', ...args] = command.split(' ');
  const template = Object.hasOwn(templates, name) ? templates[name] : undefined;
  if (!template) {
    const known = Object.keys(templates).sort().join(', ') || 'none configured';
    throw new CommandNotAllowedError(
      `command must start with an allowed template name (${known}); got "${name.slice(0, 64)}"`,
    );
  }
  const max = template.maxArguments ?? 0;
  if (args.length > max) {
    throw new CommandNotAllowedError(`template ${name} takes at most ${max} arguments (got ${args.length})`);
  }
  const own = template.argumentPattern ? new RegExp(`^(?:${template.argumentPattern})$`) : undefined;
  args.forEach((arg, i) => {
    if (!SAFE_ARGUMENT.test(arg) || (own && !own.test(arg))) {
      throw new CommandNotAllowedError(
        `argument ${i + 1} of template ${name} must match ${own ? `${template.argumentPattern} and ` : ''}${SAFE_ARGUMENT_SOURCE}`,
      );
    }
  });
  return { template: name, arguments: args };
}

/** A shell word for `text`: single-quoted, any single quote closed, escaped and reopened. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * The executable file a template becomes on the instances: `exec` of its fixed words, then the
 * task's arguments ("$@"). Written by the instances' boot script, owned by root.
 */
export function templateScript(template: CommandTemplate): string {
  return `#!/bin/sh\nexec ${template.run.map(shellQuote).join(' ')} "$@"\n`;
}
