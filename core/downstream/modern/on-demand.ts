/**
 * The 2026 front door, built on first need: it is made of the SDK v2 (`@modelcontextprotocol/server`
 * and `/node`), which costs about half a second to load, and a proxy whose clients all speak
 * 2025-11-25 need never pay for it. `load()` starts building it (the switchboard calls it once it
 * listens, so the first 2026 request seldom waits); every request before it is built waits for the
 * same load.
 *
 * Until it is built no 2026 client has been served, so nobody listens for list changes: those
 * are dropped, and there are no requests to end.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FrontDoor } from '../../http/app.ts';
import type { Principal } from '../../auth/principal.ts';
import type { ListGroup } from '../../plugins/probe.ts';
import type { ModernFrontDoor, ModernOptions } from './front-door.ts';

export class OnDemandFrontDoor implements FrontDoor {
  readonly #options: ModernOptions;
  #door?: ModernFrontDoor;
  #loading?: Promise<ModernFrontDoor>;

  constructor(options: ModernOptions) {
    this.#options = options;
  }

  /** Builds the front door (once; a failed load is tried again on the next call). */
  load(): Promise<ModernFrontDoor> {
    if (!this.#loading) {
      this.#loading = import('./front-door.ts').then(({ ModernFrontDoor }) => (this.#door = new ModernFrontDoor(this.#options)));
      this.#loading.catch(() => (this.#loading = undefined));
    }
    return this.#loading;
  }

  async handle(req: IncomingMessage, res: ServerResponse, body: unknown, principal: Principal): Promise<void> {
    const door = this.#door ?? (await this.load());
    return door.handle(req, res, body, principal);
  }

  listChanged(groups: readonly ListGroup[]): void {
    this.#door?.listChanged(groups);
  }

  resourceUpdated(uri: string): void {
    this.#door?.resourceUpdated(uri);
  }

  endRequests(error: Error): void {
    this.#door?.endRequests(error);
  }

  /** Closes the front door, once a load in progress has finished. */
  async close(): Promise<void> {
    const door = this.#door ?? (await this.#loading?.catch(() => undefined));
    await door?.close();
  }
}
