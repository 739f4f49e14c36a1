/**
 * The `switchboard` commands other than `serve` (which main.ts runs): each in its own file,
 * listed here for dispatch and for `switchboard --help`.
 */
import { helpOf, runCommand, withHint, type Command } from './command.ts';
import { pluginsCommand } from './plugins.ts';
import { listCommand } from './list.ts';
import { callCommand } from './call.ts';
import { getCommand } from './get.ts';
import { readCommand } from './read.ts';
import { checkCommand } from './check.ts';
import { newCommand } from './new-plugin.ts';

export { EXIT, type CliIO } from './io.ts';
export { helpOf, runCommand, withHint };

export const COMMANDS: readonly Command[] = [pluginsCommand, listCommand, callCommand, getCommand, readCommand, checkCommand, newCommand];

/** The command named `name`, if there is one. */
export function commandNamed(name: string): Command | undefined {
  return COMMANDS.find((command) => command.name === name);
}

/** The command list of `switchboard --help`: usage lines and summaries. */
export function commandsHelp(): string {
  return COMMANDS.map((command) => `  ${command.usage}\n      ${command.summary}`).join('\n');
}
