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
  /**
   * Access lines written in batches (see LineBatch); whoever creates such a logger calls `flush()`
   * before the process exits. Ignored for the pretty format, which people read as it happens.
   */
  batched?: boolean;
}

/** pino's level number for `warn`: a line at this level or above is written at once, with those before it. */
const WARN = 40;

/** An access line (access-log.ts): one per request, the only lines that wait in a batch. */
const isAccessLine = (first: unknown): boolean => typeof first === 'object' && first !== null && (first as { access?: unknown }).access === true;

/** pino-pretty is loaded only for a pretty logger: JSON logging (containers, services) starts faster without it. */
const loadPretty = (): typeof import('pino-pretty') => createRequire(import.meta.url)('pino-pretty');

export function createLogger(options: LoggerOptions = {}): Logger {
  // Written synchronously: with pino's default (asynchronous, no buffering) every line took a
  // trip through libuv's thread pool, and with one access line per request that was 5 futex
  // calls, an eventfd write and read on top of the write itself (strace, per forwarded call).
  const destination = options.destination ?? pino.destination({ dest: 1, sync: true });
  const pretty = options.format === 'pretty';
  const formatted = pretty
    ? loadPretty()({ destination: destination as NodeJS.WritableStream, ignore: 'pid,hostname,name', translateTime: 'HH:MM:ss.l', sync: true })
    : destination;
  const batch = options.batched && !pretty ? new LineBatch(formatted) : undefined;
  const out = batch ?? formatted;
  const secrets = options.secrets;
  const stream = {
    write: (line: string) => out.write(secrets ? secrets.scrub(line) : line),
    flush: (done?: (error?: Error) => void) => {
      batch?.flush();
      done?.();
    },
  };
  return pino(
    {
      name: 'switchboard',
      level: options.level ?? 'info',
      base: undefined,
      ...(batch && {
        hooks: {
          logMethod(args, write, level) {
            write.apply(this, args);
            if (level >= WARN || !isAccessLine(args[0])) batch.flush();
          },
        },
      }),
    },
    stream as pino.DestinationStream,
  );
}

/** How long a line may wait to be written with the ones after it. */
const BATCH_MS = 100;
/** Lines waiting are written once they come to this many characters. */
const BATCH_CHARS = 16 * 1024;

/**
 * Access lines written together rather than one write each: once 100 ms have passed since the
 * first of them, once 16 KiB are waiting, with any other line (written at once, so what people
 * and orchestrators wait for, such as `serving`, is not held back), and at `flush()`. With one
 * access line per request, a write per line was a system call per request; this is nginx's
 * `access_log ... buffer= flush=`.
 */
class LineBatch {
  readonly #out: { write(text: string): unknown };
  #lines: string[] = [];
  #chars = 0;
  #timer?: NodeJS.Timeout;

  constructor(out: { write(text: string): unknown }) {
    this.#out = out;
  }

  write(line: string): boolean {
    this.#lines.push(line);
    this.#chars += line.length;
    if (this.#chars >= BATCH_CHARS) this.flush();
    else if (!this.#timer) {
      this.#timer = setTimeout(() => this.flush(), BATCH_MS);
      this.#timer.unref();
    }
    return true;
  }

  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#lines.length === 0) return;
    const text = this.#lines.join('');
    this.#lines = [];
    this.#chars = 0;
    this.#out.write(text);
  }
}
