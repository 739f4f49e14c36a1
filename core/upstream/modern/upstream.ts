/**
 * Plugins spoken to in the 2026-07-28 era: one stateless connection per plugin (an SDK v2
 * client pinned to 2026-07-28), shared by every client. Each request carries the capabilities,
 * identity and log level of the client it is made for in its `_meta` envelope, so the backend
 * answers it as it would answer that client. An `input_required` result comes back as it is,
 * for the client side to pass on or to answer (see downstream/).
 *
 * What a 2026 backend can only say on a `subscriptions/listen` stream (list changes, resource
 * updates) is heard on one stream per plugin, opened by the proxy; the resources it asks for
 * are those its clients subscribed to.
 */
import { z } from 'zod';
import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  Client,
  LOG_LEVEL_META_KEY,
  SERVER_INFO_META_KEY,
  SdkError,
  SdkErrorCode,
  StreamableHTTPClientTransport,
  type SubscriptionFilter,
} from '@modelcontextprotocol/client';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Implementation, Notification, Result, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { MODERN, type Plugin } from '../../plugins/plugin.ts';
import type { ListItem, ListKind } from '../../catalog/plugin-catalog.ts';
import { LIST_CAPABILITY, LIST_CHANGED, readAllPages } from '../../catalog/lists.ts';
import { messageOf } from '../../errors.ts';
import { splitCredentials } from '../../redact.ts';
import { backendCall } from '../call-scope.ts';
import { traceBackendRequest } from '../../observability/tracing.ts';
import { withCallHeaders } from '../fetch.ts';
import { keepAliveFetch } from '../http-fetch.ts';
import type { BackendPeer } from '../link.ts';
import { ModernLink } from './link.ts';
import { isUnreachable, modernError } from './errors.ts';
import { Tolerance } from './tolerant.ts';

export { ModernLink } from './link.ts';

export { MODERN } from '../../plugins/plugin.ts';

/** Results are passed on as the backend sent them. */
const RAW = z.looseObject({});


export interface ModernUpstreamOptions {
  clientInfo: Implementation;
  /** The backend said lists changed (for everyone). */
  onListChanged: (plugin: Plugin, kinds: ListKind[]) => void;
  /** How to reach the backend: fetch for an in-process server, the network for a remote one. */
  fetch?: typeof fetch;
  /** Called on close (an in-process server's handler). */
  onClose?: () => Promise<void>;
}

/** What the backend said about itself in `server/discover`. */
export interface Discovered {
  capabilities: ServerCapabilities;
  serverInfo?: Implementation;
  instructions?: string;
}

/** Whether an error from connecting means "this backend does not speak 2026-07-28" (rather than "it is down"). */
export function isWrongEra(error: unknown): boolean {
  return error instanceof SdkError && error.code === SdkErrorCode.EraNegotiationFailed && !/probe failed/.test(error.message);
}

export class ModernUpstream {
  readonly plugin: Plugin;
  readonly #options: ModernUpstreamOptions;
  readonly #client: Client;
  readonly #url: URL;
  /** Subscribed resource URIs (the backend's), and the links that want their updates. */
  readonly #subscribers = new Map<string, Set<ModernLink>>();
  #listen?: Promise<{ close(): Promise<void> } | undefined>;
  #closed = false;

  constructor(plugin: Plugin, options: ModernUpstreamOptions) {
    this.plugin = plugin;
    this.#options = options;
    this.#client = new Client(options.clientInfo, { capabilities: {}, versionNegotiation: { mode: { pin: MODERN } } });
    this.#client.onerror = (error) => plugin.log.debug({ err: plugin.scrub(error.message) }, 'backend connection error');
    this.#client.fallbackNotificationHandler = async (notification) => this.#onNotification(notification as Notification);
    const remote = plugin.manifest.remote;
    this.#url = remote ? splitCredentials(remote.url).url : new URL('http://in-process.invalid/mcp');
  }

  /** Asks `server/discover`: the backend speaks 2026-07-28, or this rejects (see isWrongEra). */
  async connect(options: { timeoutMs: number; signal?: AbortSignal }): Promise<Discovered> {
    const headers = this.plugin.remoteHeaders;
    const tolerance = new Tolerance(this.plugin);
    // A request's own headers (Mcp-Param-*, the client's forwarded ones) ride on its async path.
    const base = withCallHeaders(tolerance.fetch(this.#options.fetch ?? keepAliveFetch));
    const transport = tolerance.transport(new StreamableHTTPClientTransport(this.#url, { fetch: base, requestInit: { headers } }));
    await this.#client.connect(transport, { timeout: options.timeoutMs, signal: options.signal });
    return {
      capabilities: (this.#client.getServerCapabilities() ?? {}) as ServerCapabilities,
      serverInfo: this.#client.getServerVersion() as Implementation | undefined,
      instructions: this.#client.getInstructions(),
    };
  }

  /** Asks `server/discover` again (the plugin is probed again after it was unavailable). */
  async rediscover(options: { timeoutMs: number; signal?: AbortSignal }): Promise<Discovered> {
    await this.#client.discover({ timeout: options.timeoutMs, signal: options.signal } as never);
    return {
      capabilities: (this.#client.getServerCapabilities() ?? {}) as ServerCapabilities,
      serverInfo: this.#client.getServerVersion() as Implementation | undefined,
      instructions: this.#client.getInstructions(),
    };
  }

  /** A link for one client (a 2025 session, or a stateless request). */
  link(peer: BackendPeer): ModernLink {
    return new ModernLink(this, peer);
  }

  /** Sends a request on behalf of `link`'s client. */
  async send(link: ModernLink, method: string, params: Record<string, unknown> | undefined, options: RequestOptions = {}, headers?: Record<string, string>): Promise<Result> {
    const peer = link.peer;
    // With onprogress the SDK puts its own progress token in; the client's stays with the client side.
    const { progressToken: _own, ...given } = (params?._meta as Record<string, unknown> | undefined) ?? {};
    const meta: Record<string, unknown> = {
      ...(options.onprogress ? given : (params?._meta as Record<string, unknown> | undefined) ?? {}),
      [CLIENT_CAPABILITIES_META_KEY]: peer.clientCapabilities(),
      [CLIENT_INFO_META_KEY]: peer.clientInfo(),
      ...((link.logLevel ?? peer.logLevel?.()) !== undefined && { [LOG_LEVEL_META_KEY]: link.logLevel ?? peer.logLevel?.() }),
    };
    try {
      const result = (await traceBackendRequest(this.plugin, method, params, () =>
        backendCall.run({ notify: (notification) => link.onNotification(notification), ...(headers && { headers }) }, () =>
          this.#client.request({ method, params: { ...params, _meta: meta } } as never, RAW, {
            timeout: this.plugin.timeoutMs,
            signal: options.signal,
            onprogress: options.onprogress,
            resetTimeoutOnProgress: options.resetTimeoutOnProgress,
            allowInputRequired: true,
          } as never),
        ),
      )) as Result;
      // The backend's identity is not the proxy's: a 2026 client would take it for the proxy's.
      const resultMeta = result._meta as Record<string, unknown> | undefined;
      if (resultMeta && SERVER_INFO_META_KEY in resultMeta) {
        const { [SERVER_INFO_META_KEY]: _backend, ...rest } = resultMeta;
        return Object.keys(rest).length ? { ...result, _meta: rest } : withoutMeta(result);
      }
      return result;
    } catch (error) {
      const failure = modernError(error, this.plugin, method, options.signal);
      // Not an answer at all (the backend is down): the plugin is unavailable until a probe finds it again.
      if (isUnreachable(error) && (this.plugin.state === 'ready' || this.plugin.state === 'degraded')) this.plugin.setState('unavailable', failure.message);
      throw failure;
    }
  }

  /** Every item of one list, following the backend's pagination, for `link`'s client. */
  async fetchAll(link: ModernLink, kind: ListKind): Promise<ListItem[]> {
    const capabilities = (this.#client.getServerCapabilities() ?? {}) as ServerCapabilities;
    if (!capabilities[LIST_CAPABILITY[kind]]) return [];
    return readAllPages(this.plugin.label, kind, (method, params) => this.send(link, method, params));
  }

  /** Starts hearing list changes (and subscribed resources' updates) on a listen stream of the proxy's own. */
  listen(): void {
    if (this.#closed) return;
    const previous = this.#listen;
    const capabilities = (this.#client.getServerCapabilities() ?? {}) as ServerCapabilities;
    const filter: SubscriptionFilter = {
      ...(capabilities.tools?.listChanged && { toolsListChanged: true }),
      ...(capabilities.prompts?.listChanged && { promptsListChanged: true }),
      ...(capabilities.resources?.listChanged && { resourcesListChanged: true }),
      ...(capabilities.resources?.subscribe && this.#subscribers.size > 0 && { resourceSubscriptions: [...this.#subscribers.keys()] }),
    };
    if (Object.keys(filter).length === 0) {
      this.#listen = undefined;
      void previous?.then((stream) => stream?.close());
      return;
    }
    // Outside any request's scope: what arrives on it belongs to no single client.
    this.#listen = backendCall.exit(() =>
      this.#client.listen(filter).then(
        (stream) => stream,
        (error: unknown) => {
          this.plugin.log.warn({ err: this.plugin.scrub(messageOf(error)) }, 'could not listen for changes');
          return undefined;
        },
      ),
    );
    void previous?.then((stream) => stream?.close());
  }

  /** `link`'s client subscribes to `uri` (the backend's): updates reach it. */
  subscribe(uri: string, link: ModernLink): void {
    let links = this.#subscribers.get(uri);
    const fresh = !links;
    if (!links) this.#subscribers.set(uri, (links = new Set()));
    links.add(link);
    if (fresh) this.listen();
  }

  unsubscribe(uri: string, link: ModernLink): void {
    const links = this.#subscribers.get(uri);
    if (!links?.delete(link) || links.size > 0) return;
    this.#subscribers.delete(uri);
    this.listen();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscribers.clear();
    await this.#listen?.then((stream) => stream?.close()).catch(() => {});
    await this.#client.close().catch(() => {});
    await this.#options.onClose?.().catch(() => {});
  }

  async #onNotification(notification: Notification): Promise<void> {
    const call = backendCall.getStore();
    if (call?.notify) return call.notify(notification);
    const kinds = LIST_CHANGED[notification.method];
    if (kinds) return this.#options.onListChanged(this.plugin, kinds);
    const uri = (notification.params as { uri?: unknown } | undefined)?.uri;
    if (notification.method === 'notifications/resources/updated' && typeof uri === 'string') {
      for (const link of this.#subscribers.get(uri) ?? []) await link.onNotification({ method: notification.method, params: { uri } });
    }
  }
}

function withoutMeta(result: Result): Result {
  const { _meta: _dropped, ...rest } = result;
  return rest as Result;
}
