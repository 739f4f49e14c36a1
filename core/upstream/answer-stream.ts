/**
 * A backend's event stream in answer to a POST, read until it shows what it is. Most such
 * streams are a priming event (an id, no data), the answer, and the end, all within a
 * millisecond: that answer is handed over as plain JSON, as if the backend had answered
 * `application/json` (which the spec lets it do, and the SDK client reads for a fraction of the
 * cost of its web-stream event parser, the largest cost left of a forwarded call in issue 11's
 * profiles). Any other stream is handed over as a stream, with what was read so far, the moment
 * it shows something else:
 *
 * - a message that is not the answer (progress, logging, a request to the client) is news the
 *   client must get at once;
 * - an answer whose stream does not end within ANSWER_END_MS (a backend that keeps it open);
 * - a stream longer than MAX_ANSWER_BYTES (a large answer: the SDK's own reader is as good);
 * - a stream that ends, or drops, without an answer (SSE polling, a backend that went away):
 *   the SDK client reconnects with the priming event's id, as it would have directly.
 *
 * While nothing but priming events has come (a long call), nothing is handed over: there is
 * nothing in the stream yet that the client could act on.
 */
import type { IncomingMessage } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { createParser } from 'eventsource-parser';

/** How long an answer's stream may stay open after the answer before it is handed over as a stream. */
const ANSWER_END_MS = 20;
/**
 * A longer stream is handed over as it is once this much of it came: holding a large answer to
 * hand it over whole would keep it in memory twice or three times over (its bytes, its text, the
 * parsed check), for the sake of a parse that costs little beside it.
 */
export const MAX_ANSWER_BYTES = 64 * 1024;

export type Settled =
  /** The stream ended with one message, the answer: its JSON text, and that text parsed (to be parsed once). */
  | { kind: 'answer'; json: string; message: object }
  /** The stream ended (or is still going, or dropped: `error`) with more, less, or other than an answer; `read` is what came so far. */
  | { kind: 'stream'; read: Buffer[]; ended: boolean; error?: Error };

/** Reads `reply` until it settles, then stops reading it (a `stream` outcome that has not ended leaves the rest unread). */
export function settleEventStream(reply: IncomingMessage, onSettled: (settled: Settled) => void): void {
  const read: Buffer[] = [];
  const decoder = new StringDecoder('utf8');
  /** The answer, as it came and parsed: set once, by the first event that is one. */
  let answer: { json: string; message: object } | undefined;
  let other = false;
  let timer: NodeJS.Timeout | undefined;
  let failure: Error | undefined;
  const parser = createParser({
    onEvent: ({ data }) => {
      if (data === '') return; // a priming event
      const message = answer === undefined ? responseIn(data) : undefined;
      if (message) answer = { json: data, message };
      else other = true;
    },
  });

  let done = false;
  // Once: the timer after an answer and a dropped connection's deferred outcome could both come.
  const settle = (settled: Settled) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    reply.off('data', onData);
    reply.off('end', onEnd);
    reply.off('error', onError);
    reply.off('close', onClose);
    onSettled(settled);
  };
  let size = 0;
  const onData = (chunk: Buffer) => {
    read.push(chunk);
    size += chunk.byteLength;
    if (size > MAX_ANSWER_BYTES) return settle({ kind: 'stream', read, ended: false });
    parser.feed(decoder.write(chunk));
    if (other) return settle({ kind: 'stream', read, ended: false });
    if (answer && !timer) timer = setTimeout(() => settle({ kind: 'stream', read, ended: false }), ANSWER_END_MS);
  };
  const onEnd = () => {
    parser.feed(decoder.end());
    if (answer && !other) settle({ kind: 'answer', ...answer });
    else settle({ kind: 'stream', read, ended: true });
  };
  const onError = (error: Error) => (failure = error);
  // A connection closed early emits 'close' before its 'error' (ECONNRESET): that error, if it comes, says more.
  const onClose = () => setImmediate(() => settle({ kind: 'stream', read, ended: true, error: failure ?? new Error('the connection closed before the reply ended') }));

  reply.on('data', onData);
  reply.on('end', onEnd);
  reply.on('error', onError);
  reply.on('close', onClose);
}

/** An event's data parsed, if it is one JSON-RPC response (a result or an error for a request id). */
function responseIn(data: string): object | undefined {
  try {
    const message: unknown = JSON.parse(data);
    const response = typeof message === 'object' && message !== null && !Array.isArray(message) && 'id' in message && !('method' in message) && ('result' in message || 'error' in message);
    return response ? message : undefined;
  } catch {
    return undefined;
  }
}
