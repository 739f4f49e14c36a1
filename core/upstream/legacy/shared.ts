/**
 * Backend sessions shared by stateless (2026-era) clients, for plugins spoken to in the 2025
 * era. A stateless client has no session of its own for the backend to be part of, so the proxy
 * keeps one backend session per plugin and *audience* (clients that declare the same
 * capabilities share it, as they share lists), opened when first needed.
 *
 * What the backend sends about a request goes to that request: a log message to its stream, a
 * question (elicitation, sampling, roots) to the client that made it, as an `input_required`
 * result (see downstream/modern/input.ts). The scope of the request tells which one.
 */
import type { ClientCapabilities, Implementation } from '@modelcontextprotocol/sdk/types.js';
import { createHash } from 'node:crypto';
import { Backend, type BackendPeer, type ListKind } from './backend.ts';
import type { Plugin } from '../../plugins/plugin.ts';
import { audienceOf } from '../../catalog/plugin-catalog.ts';
import { requestScope } from '../../scope.ts';
import { hiddenByPolicy, toClient } from '../../downstream/to-client.ts';
import { RpcCodes, RpcError } from '../../errors.ts';

export interface SharedBackendsOptions {
  clientInfo: Implementation;
  /** A shared backend session said a list changed: as for the monitor, that counts for everyone. */
  onListChanged: (plugin: Plugin, kinds: ListKind[]) => void;
  /** A subscribed resource changed (the URI as the backend names it). */
  onResourceUpdated: (plugin: Plugin, uri: string) => void;
}

const LIST_CHANGED: Record<string, ListKind[]> = {
  'notifications/tools/list_changed': ['tools'],
  'notifications/prompts/list_changed': ['prompts'],
  'notifications/resources/list_changed': ['resources', 'resourceTemplates'],
};

export class SharedBackends {
  readonly #options: SharedBackendsOptions;
  readonly #backends = new Map<Plugin, Map<string, Backend>>();

  constructor(options: SharedBackendsOptions) {
    this.#options = options;
  }

  /** The shared backend session of `plugin` for clients that declare `capabilities`. */
  backend(plugin: Plugin, capabilities: ClientCapabilities): Backend {
    const audience = audienceOf(capabilities);
    let byAudience = this.#backends.get(plugin);
    if (!byAudience) this.#backends.set(plugin, (byAudience = new Map()));
    let backend = byAudience.get(audience);
    if (!backend) {
      backend = new Backend(plugin, this.#peer(audience, capabilities));
      byAudience.set(audience, backend);
    }
    return backend;
  }

  /** The backend sessions shared for `plugin` (to subscribe to resources on, say). */
  of(plugin: Plugin): Backend[] {
    return [...(this.#backends.get(plugin)?.values() ?? [])];
  }

  /** Stops using `plugin` (reloaded or removed): requests in progress may finish within `graceMs`. */
  async retire(plugin: Plugin, reason: string, graceMs: number): Promise<void> {
    const backends = this.of(plugin);
    this.#backends.delete(plugin);
    await Promise.all(backends.map((backend) => backend.retire(reason, graceMs)));
  }

  async close(): Promise<void> {
    const backends = [...this.#backends.values()].flatMap((byAudience) => [...byAudience.values()]);
    this.#backends.clear();
    await Promise.all(backends.map((backend) => backend.close()));
  }

  #peer(audience: string, capabilities: ClientCapabilities): BackendPeer {
    const options = this.#options;
    return {
      id: `shared-${createHash('sha256').update(audience).digest('hex').slice(0, 8)}`,
      clientCapabilities: () => capabilities,
      clientInfo: () => options.clientInfo,
      async onBackendRequest(backend, request, signal) {
        if (request.method === 'ping') return {};
        const scope = requestScope.getStore();
        if (!scope?.stateless || scope.done) {
          throw new RpcError(RpcCodes.MethodNotFound, `${request.method}: no client request is waiting for it (a stateless client can only be asked during its own request)`);
        }
        const params = request.params === undefined ? undefined : toClient(backend.plugin, request.method, request.params as Record<string, unknown>);
        return scope.stateless.ask({ ...request, ...(params && { params }) }, signal);
      },
      async onBackendNotification(backend, notification) {
        const kinds = LIST_CHANGED[notification.method];
        if (kinds) return options.onListChanged(backend.plugin, kinds);
        const params = (notification.params ?? {}) as Record<string, unknown>;
        if (hiddenByPolicy(backend.plugin, notification.method, params)) return;
        if (notification.method === 'notifications/resources/updated' && typeof params.uri === 'string') {
          return options.onResourceUpdated(backend.plugin, params.uri);
        }
        const scope = requestScope.getStore();
        if (!scope?.stateless || scope.done) return;
        await scope.stateless.notify({ method: notification.method, params: toClient(backend.plugin, notification.method, params) });
      },
    };
  }
}
