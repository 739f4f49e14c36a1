/**
 * The proxy's logger: pino, one child logger per plugin so every line about a plugin carries
 * its prefix and folder. JSON lines by default (what a container and log shippers want);
 * `pretty` for people reading a terminal. Every line passes through the secrets scrubber first,
 * so a token that reaches a message (in an error a library threw, say) is never written.
 */
import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';
import { createRequire } from 'node:module';
import type { Secrets } from './redact.ts';

export type Logger = PinoLogger;
export type LogLevel = LevelWithSilent;
export type LogFormat = 'json' | 'pretty';

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  destination?: NodeJS.WritableStream;
  /** Secret values to replace in every line. */
  secrets?: Secrets;
}

/** pino-pretty is loaded only for a pretty logger: JSON logging (containers, services) starts faster without it. */
const loadPretty = (): typeof import('pino-pretty') => createRequire(import.meta.url)('pino-pretty');

export function createLogger(options: LoggerOptions = {}): Logger {
  // Written synchronously: with pino's default (asynchronous, no buffering) every line took a
  // trip through libuv's thread pool, and with one access line per request that was 5 futex
  // calls, an eventfd write and read on top of the write itself (strace, per forwarded call).
  const destination = options.destination ?? pino.destination({ dest: 1, sync: true });
  const formatted =
    options.format === 'pretty'
      ? loadPretty()({ destination: destination as NodeJS.WritableStream, ignore: 'pid,hostname,name', translateTime: 'HH:MM:ss.l', sync: true })
      : destination;
  const secrets = options.secrets;
  const stream = secrets ? { write: (line: string) => formatted.write(secrets.scrub(line)) } : formatted;
  return pino({ name: 'switchboard', level: options.level ?? 'info', base: undefined }, stream as pino.DestinationStream);
}
