/**
 * What every CLI command gets and gives back: its output streams and environment in, an exit
 * code out. main.ts connects these to the process; tests and other callers pass their own.
 */
import { styleText } from 'node:util';

export interface Output {
  write(text: string): unknown;
  /** A terminal: colours are used (unless NO_COLOR says otherwise). */
  isTTY?: boolean;
}

export interface CliIO {
  stdout: Output;
  stderr: Output;
  /** The environment: SWITCHBOARD_TOKEN, NO_COLOR, FORCE_COLOR, SWITCHBOARD_CONFIG, SWITCHBOARD_PORT (plugins' default URL), `${VAR}` in manifests. */
  env?: Record<string, string | undefined>;
  /** Where relative paths start (default: the process's working directory). */
  cwd?: string;
}

/** Exit codes: success, a problem (a failed call, request or check), a usage mistake. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A mistake in how the command was called: exit 2, with the message (which names the culprit). */
export class UsageError extends Error {}

type Format = Parameters<typeof styleText>[0];

/** Colours for one stream, or none: every method returns the text unchanged when colours are off. */
export interface Style {
  readonly enabled: boolean;
  paint(format: Format, text: string): string;
}

/**
 * Colours on a terminal, plain text when piped or redirected. `FORCE_COLOR` (anything but `0`
 * or `false`) turns them on anyway, `NO_COLOR` (any non-empty value) off, as
 * https://no-color.org and https://force-color.org ask. A terminal without `TERM`, or with
 * `TERM=dumb`, is plain too, as Node's own colour detection and supports-color decide.
 */
export function styleFor(stream: Output, env: Record<string, string | undefined> = {}): Style {
  const force = env.FORCE_COLOR;
  const enabled =
    force !== undefined && force !== ''
      ? force !== '0' && force !== 'false'
      : env.NO_COLOR !== undefined && env.NO_COLOR !== ''
        ? false
        : stream.isTTY === true && env.TERM !== undefined && env.TERM !== '' && env.TERM !== 'dumb';
  return {
    enabled,
    // Whether to colour is decided here, once, for the stream the text goes to: styleText must not
    // look at process.stdout again (newer Node versions would, older ones never do).
    paint: (format, text) => (enabled && text !== '' ? styleText(format, text, { validateStream: false }) : text),
  };
}

/**
 * Columns padded to their widest cell (the last one is not padded); the header row is bold.
 * `colour` picks a cell's colour, applied after padding so columns stay aligned.
 */
export function table(header: string[], rows: string[][], style: Style, colour?: (cell: string, column: number) => Format | undefined): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[], paint: boolean) =>
    cells
      .map((c, i) => {
        const padded = i === cells.length - 1 ? c : c.padEnd(widths[i]!);
        const format = paint ? colour?.(c, i) : undefined;
        return format ? style.paint(format, c) + padded.slice(c.length) : padded;
      })
      .join('  ');
  return [style.paint('bold', line(header, false)), ...rows.map((row) => line(row, true))];
}
