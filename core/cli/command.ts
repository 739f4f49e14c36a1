/**
 * How a CLI command is declared and its arguments parsed: `node:util` parseArgs in strict mode
 * (an unknown flag is a usage error naming it), with `--help` on every command.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closest } from '../did-you-mean.ts';
import { EXIT, UsageError, styleFor, type CliIO } from './io.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed<O extends Options> {
  values: { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : O[K]['multiple'] extends true ? string[] : string };
  positionals: string[];
}

export interface Command<O extends Options = Options> {
  /** As typed: `list`, `new plugin`. */
  name: string;
  /** The usage line(s): `switchboard list URL [--json] ...`. */
  usage: string;
  /** One line, for `switchboard --help`. */
  summary: string;
  /** The rest of `switchboard NAME --help`: what it does, each option, exit codes. */
  details: string;
  options: O;
  run(parsed: Parsed<O>, io: CliIO): Promise<number>;
}

export function defineCommand<O extends Options>(command: Command<O>): Command {
  return command as unknown as Command;
}

/** `switchboard NAME --help`. */
export function helpOf(command: Command): string {
  return `usage: ${command.usage}\n\n${command.summary}\n\n${command.details.trimEnd()}\n`;
}

/**
 * Parses `argv` for `command` and runs it. `--help` prints its help (exit 0); a usage mistake
 * prints what is wrong and how to get help (exit 2); otherwise the command's own exit code.
 */
export async function runCommand(command: Command, argv: string[], io: CliIO): Promise<number> {
  let parsed: Parsed<Options> & { values: { help?: boolean } };
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...command.options, help: { type: 'boolean', short: 'h' } } }) as typeof parsed;
  } catch (error) {
    return usageError(command, withHint((error as Error).message, [...Object.keys(command.options), 'help']), io);
  }
  if (parsed.values.help) {
    io.stdout.write(helpOf(command));
    return EXIT.ok;
  }
  try {
    return await command.run(parsed, io);
  } catch (error) {
    if (error instanceof UsageError) return usageError(command, error.message, io);
    throw error;
  }
}

/** parseArgs' message for an unknown flag, made `Unknown option '--prot' (did you mean --port?)` when one of `options` is near it. */
export function withHint(message: string, options: readonly string[]): string {
  const unknown = /^Unknown option '--([^'=]+)'/.exec(message)?.[1];
  const hint = unknown === undefined ? undefined : closest(unknown, options);
  return hint ? `Unknown option '--${unknown}' (did you mean --${hint}?)` : message;
}

function usageError(command: Command, message: string, io: CliIO): number {
  const style = styleFor(io.stderr, io.env);
  io.stderr.write(`${style.paint('red', `switchboard ${command.name}: ${message}`)}\nusage: ${command.usage}\n(switchboard ${command.name} --help says more)\n`);
  return EXIT.usage;
}
