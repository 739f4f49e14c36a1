/**
 * One client's view of a 2026-era plugin (a 2025 session, or a stateless request): its
 * capabilities, identity and log level go on each request; what a 2025 session keeps with a
 * backend (a log level, resource subscriptions) is kept here and sent or subscribed the 2026 way.
 */
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Notification, Result } from '@modelcontextprotocol/sdk/types.js';
import type { Plugin } from '../../plugins/plugin.ts';
import { audienceOf, type ListItem, type ListKind } from '../../catalog/plugin-catalog.ts';
import { encodeParamHeaders, paramHeaders } from '../../catalog/param-headers.ts';
import { RpcCodes, RpcError } from '../../errors.ts';
import type { BackendLink, BackendPeer } from '../link.ts';
import { forwardedHeaders } from '../call-scope.ts';
import type { ModernUpstream } from './upstream.ts';

export class ModernLink implements BackendLink {
  readonly plugin: Plugin;
  readonly peer: BackendPeer;
  readonly #upstream: ModernUpstream;
  /** The level the client set with logging/setLevel (a 2025 client), sent on each request. */
  logLevel?: string;
  readonly #subscriptions = new Set<string>();
  #inFlight = 0;
  #drained?: () => void;

  constructor(upstream: ModernUpstream, peer: BackendPeer) {
    this.#upstream = upstream;
    this.plugin = upstream.plugin;
    this.peer = peer;
  }

  list(kind: ListKind): Promise<ListItem[]> {
    return this.plugin.catalog.get(audienceOf(this.peer.clientCapabilities(), '2026-07-28'), kind, () => this.#upstream.fetchAll(this, kind));
  }

  /**
   * Forwards a request. What a 2025 session keeps with the backend, a 2026 backend takes per
   * request: the log level goes on each request, subscriptions onto the plugin's listen stream.
   */
  async request(method: string, params: Record<string, unknown> | undefined, options: RequestOptions = {}): Promise<Result> {
    switch (method) {
      case 'logging/setLevel':
        this.logLevel = typeof params?.level === 'string' ? params.level : undefined;
        return {};
      case 'resources/subscribe':
      case 'resources/unsubscribe': {
        const uri = params?.uri;
        if (typeof uri !== 'string') throw new RpcError(RpcCodes.InvalidParams, `${method}: "uri" must be a string`);
        if (method === 'resources/subscribe') {
          this.#subscriptions.add(uri);
          this.#upstream.subscribe(uri, this);
        } else {
          this.#subscriptions.delete(uri);
          this.#upstream.unsubscribe(uri, this);
        }
        return {};
      }
    }
    this.#inFlight++;
    try {
      const forwarded = forwardedHeaders(this.plugin, method);
      const declared = method === 'tools/call' ? await this.#paramHeaders(params) : undefined;
      const headers = forwarded && declared ? { ...forwarded, ...declared } : (declared ?? forwarded);
      return await this.#upstream.send(this, method, params, options, headers);
    } finally {
      if (--this.#inFlight === 0) this.#drained?.();
    }
  }

  async onNotification(notification: Notification): Promise<void> {
    await this.peer.onBackendNotification(this, notification);
  }

  /** The `Mcp-Param-*` headers the backend expects with a call (its tool's `x-mcp-header` arguments). */
  async #paramHeaders(params: Record<string, unknown> | undefined): Promise<Record<string, string> | undefined> {
    const tools = await this.list('tools').catch(() => []);
    const tool = tools.find((item) => item.name === params?.name);
    const declared = tool ? paramHeaders(tool.inputSchema) : [];
    return declared.length ? encodeParamHeaders(declared, params?.arguments) : undefined;
  }

  async retire(_reason: string, graceMs: number): Promise<void> {
    if (this.#inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise<void>((resolve) => (this.#drained = resolve)), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
    }
    await this.close();
  }

  async close(): Promise<void> {
    for (const uri of this.#subscriptions) this.#upstream.unsubscribe(uri, this);
    this.#subscriptions.clear();
  }
}

