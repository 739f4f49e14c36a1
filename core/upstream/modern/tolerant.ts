/**
 * Reading 2026-07-28 backends tolerantly. The SDK v2 client is strict where a proxy should not
 * be: two slips that real servers make (among them the conformance suite's own reference server)
 * would otherwise turn every such answer into an error for the client. Each is repaired, and
 * said once per plugin in a warning, so the server's author can fix it:
 *
 * - a result without `resultType` (required since 2026-07-28) is taken as `complete`, the only
 *   meaning the spec gives an absent one in earlier revisions;
 * - an `application/json` body holding several JSON-RPC messages one per line (NDJSON, as in
 *   a streamed answer sent with the wrong type) is read as the batch it stands for.
 */
import type { Transport } from '@modelcontextprotocol/client';
import type { Plugin } from '../../plugins/plugin.ts';

type Slip = 'resultType' | 'ndjson';

const SAID: Record<Slip, string> = {
  resultType: 'backend sent a result without resultType (required in 2026-07-28); taken as "complete"',
  ndjson: 'backend sent several JSON-RPC messages in one application/json body (one per line); read as a batch, though 2026-07-28 asks for text/event-stream',
};

export class Tolerance {
  readonly #plugin: Plugin;
  readonly #said = new Set<Slip>();

  constructor(plugin: Plugin) {
    this.#plugin = plugin;
  }

  /** fetch whose JSON bodies may be NDJSON. */
  fetch(base: typeof fetch): typeof fetch {
    return async (input, init) => {
      const response = await base(input, init);
      if (!/^application\/json\b/i.test(response.headers.get('content-type') ?? '')) return response;
      response.json = async () => this.#parse(await response.text());
      return response;
    };
  }

  /** Repairs each message the transport hands to the client (set before the client connects). */
  transport<T extends Transport>(transport: T): T {
    let handler: Transport['onmessage'];
    Object.defineProperty(transport, 'onmessage', {
      configurable: true,
      get: () => handler,
      set: (next: Transport['onmessage']) => {
        handler = next && ((message, extra) => next(this.#repair(message), extra));
      },
    });
    return transport;
  }

  #parse(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch (error) {
      const lines = text.split('\n').filter((line) => line.trim() !== '');
      if (lines.length < 2) throw error;
      let messages: unknown[];
      try {
        messages = lines.map((line) => JSON.parse(line) as unknown);
      } catch {
        throw error;
      }
      this.#say('ndjson');
      return messages;
    }
  }

  #repair<M>(message: M): M {
    const result = (message as { result?: unknown }).result;
    if (result === null || typeof result !== 'object' || Array.isArray(result) || 'resultType' in result) return message;
    this.#say('resultType');
    return { ...message, result: { ...result, resultType: 'complete' } };
  }

  #say(slip: Slip): void {
    if (this.#said.has(slip)) return;
    this.#said.add(slip);
    this.#plugin.log.warn(`${SAID[slip]}; the server should be fixed`);
  }
}
