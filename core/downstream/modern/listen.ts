/**
 * Resource subscriptions of listening stateless clients: a `subscriptions/listen` stream that
 * asks for `resourceSubscriptions` gets the proxy subscribed to those resources at their
 * plugins (a 2025 backend with `resources/subscribe`, a 2026 one on the proxy's own listen
 * stream) for as long as the stream is open. Each resource is subscribed once, however many
 * streams want it, and released when the last one closes; updates are published to the SDK's
 * event bus, which delivers them to the streams that asked.
 */
import type { ClientCapabilities, Implementation } from '@modelcontextprotocol/sdk/types.js';
import type { Router } from '../router.ts';
import type { SharedBackends } from '../../upstream/legacy/shared.ts';
import { Backend, type BackendLink, type BackendPeer } from '../../upstream/legacy/backend.ts';
import { hiddenByPolicy, safeExposeUri } from '../to-client.ts';
import { RpcCodes, RpcError, messageOf } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { ANONYMOUS } from '../../auth/principal.ts';

export interface ListenOptions {
  router: Router;
  shared: SharedBackends;
  serverInfo: Implementation;
  log: Logger;
  /** A subscribed resource changed (its URI as clients name it). */
  onUpdated: (uri: string) => void;
}

export class ListenSubscriptions {
  readonly #options: ListenOptions;
  /** Resources (as clients name them), how many listen streams want each, and how to stop. */
  readonly #held = new Map<string, { listeners: number; stop: Promise<() => Promise<void>> }>();

  constructor(options: ListenOptions) {
    this.#options = options;
  }

  /** Holds subscriptions to `uris` for one listen stream; resolves with its release. */
  async hold(uris: readonly string[], capabilities: ClientCapabilities): Promise<() => void> {
    const held: string[] = [];
    for (const exposed of new Set(uris)) {
      let subscription = this.#held.get(exposed);
      if (!subscription) {
        subscription = { listeners: 0, stop: this.#subscribe(exposed, capabilities) };
        this.#held.set(exposed, subscription);
      }
      subscription.listeners++;
      held.push(exposed);
    }
    return () => {
      for (const exposed of held) {
        const subscription = this.#held.get(exposed);
        if (!subscription || --subscription.listeners > 0) continue;
        this.#held.delete(exposed);
        void subscription.stop.then((stop) => stop());
      }
    };
  }

  /** Subscribes the proxy to one resource at its plugin; resolves with how to unsubscribe. */
  async #subscribe(exposed: string, capabilities: ClientCapabilities): Promise<() => Promise<void>> {
    const { router, shared, serverInfo, log, onUpdated } = this.#options;
    const nothing = async () => {};
    let target: { backend: BackendLink; uri: string };
    try {
      // The proxy subscribes for itself; which streams may ask for which resource is decided before (front-door.ts).
      target = router.routeUri(exposed, {
        principal: ANONYMOUS,
        backend: (plugin) => (plugin.upstream ? plugin.upstream.link(updatesPeer(capabilities, serverInfo, onUpdated)) : shared.backend(plugin, capabilities)),
      });
    } catch {
      return nothing; // no plugin has it: nothing will change
    }
    const { backend, uri } = target;
    try {
      await backend.request('resources/subscribe', { uri });
    } catch (error) {
      log.debug({ err: messageOf(error), uri: exposed }, 'could not subscribe for a listening client');
      return nothing;
    }
    return async () => {
      await backend.request('resources/unsubscribe', { uri }).catch(() => {});
      if (!(backend instanceof Backend)) await backend.close();
    };
  }
}

/** The proxy's own subscription at a 2026-era plugin, for listening clients: updates go to the bus. */
function updatesPeer(capabilities: ClientCapabilities, clientInfo: Implementation, onUpdated: (uri: string) => void): BackendPeer {
  return {
    id: 'listen',
    clientCapabilities: () => capabilities,
    clientInfo: () => clientInfo,
    onBackendRequest: async (_link, request) => {
      throw new RpcError(RpcCodes.MethodNotFound, `${request.method}: not expected on a subscription`);
    },
    onBackendNotification: async (link, notification) => {
      const uri = (notification.params as { uri?: unknown } | undefined)?.uri;
      if (hiddenByPolicy(link.plugin, notification.method, notification.params)) return;
      if (notification.method === 'notifications/resources/updated' && typeof uri === 'string') onUpdated(safeExposeUri(link.plugin.namespace, uri));
    },
  };
}
