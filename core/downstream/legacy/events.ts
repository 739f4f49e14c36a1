/**
 * Resumability (SEP-1699): each client session keeps the recent messages it sent on its SSE
 * streams, so a client whose connection dropped can reconnect with `Last-Event-ID` and get the
 * rest (the SDK transport sends priming events with an id to clients of protocol 2025-11-25+).
 *
 * Bounded per session: at most `maxEvents` messages, none older than `retentionMs`, and a
 * request stream's messages are dropped as soon as the stream was delivered in full.
 *
 * It also tells the HTTP layer whether a dropped request stream can be resumed, and whether the
 * client did resume it, so a drop is only taken as a cancellation when the answer can no longer
 * reach the client.
 */
import { AsyncSlot } from '../../async-slot.ts';
import type { EventStore, EventId, StreamId } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** The HTTP exchange being handled: the event store notes the SSE stream it opened. */
export interface Exchange {
  streamId?: StreamId;
}
export const exchangeScope = new AsyncSlot<Exchange>('exchange');

interface StoredEvent {
  id: EventId;
  streamId: StreamId;
  message: JSONRPCMessage;
  at: number;
}

export class SessionEventStore implements EventStore {
  readonly #events: StoredEvent[] = [];
  readonly #maxEvents: number;
  readonly #retentionMs: number;
  /** Streams whose connection dropped, with what to do if nobody resumes them in time. */
  readonly #dropped = new Map<StreamId, NodeJS.Timeout>();
  #sequence = 0;

  constructor(options: { maxEvents?: number; retentionMs?: number } = {}) {
    this.#maxEvents = options.maxEvents ?? 200;
    this.#retentionMs = options.retentionMs ?? 5 * 60_000;
  }

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    const id = `${++this.#sequence}.${streamId}`;
    const now = Date.now();
    this.#events.push({ id, streamId, message, at: now });
    while (this.#events.length > this.#maxEvents || (this.#events.length && now - this.#events[0]!.at > this.#retentionMs)) this.#events.shift();
    // The first event of a request stream is its priming event, written while the POST is handled.
    const exchange = exchangeScope.getStore();
    if (exchange && exchange.streamId === undefined) exchange.streamId = streamId;
    return id;
  }

  async getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
    const dot = eventId.indexOf('.');
    return dot > 0 ? eventId.slice(dot + 1) : undefined;
  }

  async replayEventsAfter(lastEventId: EventId, { send }: { send: (eventId: EventId, message: JSONRPCMessage) => Promise<void> }): Promise<StreamId> {
    const streamId = (await this.getStreamIdForEventId(lastEventId)) ?? '';
    this.#resumed(streamId);
    const after = Number(lastEventId.slice(0, lastEventId.indexOf('.')));
    for (const event of this.#events) {
      if (event.streamId !== streamId || Number(event.id.slice(0, event.id.indexOf('.'))) <= after) continue;
      if (Object.keys(event.message).length === 0) continue; // priming events carry no message
      await send(event.id, event.message);
    }
    return streamId;
  }

  /**
   * A request stream dropped: run `giveUp` unless the client resumes it within `graceMs`.
   */
  dropped(streamId: StreamId, graceMs: number, giveUp: () => void): void {
    clearTimeout(this.#dropped.get(streamId));
    const timer = setTimeout(() => {
      this.#dropped.delete(streamId);
      giveUp();
    }, graceMs);
    timer.unref();
    this.#dropped.set(streamId, timer);
  }

  #resumed(streamId: StreamId): void {
    clearTimeout(this.#dropped.get(streamId));
    this.#dropped.delete(streamId);
  }

  /** A stream was delivered in full: its events are no longer needed. */
  completed(streamId: StreamId): void {
    this.#resumed(streamId);
    for (let i = this.#events.length - 1; i >= 0; i--) if (this.#events[i]!.streamId === streamId) this.#events.splice(i, 1);
  }

  /** Messages held for replay (for tests and metrics). */
  get size(): number {
    return this.#events.length;
  }

  /** Forgets everything (the session ended). */
  clear(): void {
    for (const timer of this.#dropped.values()) clearTimeout(timer);
    this.#dropped.clear();
    this.#events.length = 0;
  }
}
