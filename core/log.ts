/**
 * The proxy's logger: pino, JSON lines to stdout (what a container wants), one child logger
 * per plugin so every line about a plugin carries its prefix and folder.
 */
import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';

export type Logger = PinoLogger;
export type LogLevel = LevelWithSilent;

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function createLogger(options: { level?: LogLevel; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    { name: 'switchboard', level: options.level ?? 'info', base: undefined },
    (options.destination ?? pino.destination(1)) as pino.DestinationStream,
  );
}
