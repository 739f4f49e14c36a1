/**
 * The proxy's logger: pino, one child logger per plugin so every line about a plugin carries
 * its prefix and folder. JSON lines by default (what a container and log shippers want);
 * `pretty` for people reading a terminal.
 */
import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type Logger = PinoLogger;
export type LogLevel = LevelWithSilent;
export type LogFormat = 'json' | 'pretty';

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

export function createLogger(options: { level?: LogLevel; format?: LogFormat; destination?: NodeJS.WritableStream } = {}): Logger {
  const destination = options.destination ?? pino.destination(1);
  const stream =
    options.format === 'pretty'
      ? pretty({ destination: destination as NodeJS.WritableStream, ignore: 'pid,hostname,name', translateTime: 'HH:MM:ss.l', sync: true })
      : destination;
  return pino({ name: 'switchboard', level: options.level ?? 'info', base: undefined }, stream as pino.DestinationStream);
}
