/**
 * What the client side sees of a backend, whatever era the proxy speaks to it in: a link that
 * lists (from the plugin's shared catalog) and forwards requests. A 2025-era plugin's link is a
 * backend session of its own (backend.ts); a 2026-era plugin's is a view on the plugin's one
 * stateless connection, carrying this client's capabilities on each request (modern.ts).
 */
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ClientCapabilities, Implementation, JSONRPCRequest, Notification, Result } from '@modelcontextprotocol/sdk/types.js';
import type { Plugin } from '../plugins/plugin.ts';
import type { ListItem, ListKind } from '../catalog/plugin-catalog.ts';

export interface BackendLink {
  readonly plugin: Plugin;
  /** Every item of one list, as this client is shown it (shared lists; see plugin-catalog.ts). */
  list(kind: ListKind): Promise<ListItem[]>;
  /** Forwards a request and resolves with the backend's result as it is (an `input_required` one included). */
  request(method: string, params: Record<string, unknown> | undefined, options?: RequestOptions): Promise<Result>;
  /** The proxy stops using this link (its plugin was reloaded or removed): requests in progress get `graceMs`. */
  retire(reason: string, graceMs: number): Promise<void>;
  /** Closes it. Idempotent. */
  close(): Promise<void>;
}

/** The client's side of a link: what it declares, and where backend traffic goes. */
export interface BackendPeer {
  readonly id: string;
  clientCapabilities(): ClientCapabilities;
  clientInfo(): Implementation;
  /** The lowest log level the client wants messages at, when it says so per request (2026 clients). */
  logLevel?(): string | undefined;
  /** A request from the backend to the client (sampling, elicitation, roots, ping). */
  onBackendRequest(link: BackendLink, request: JSONRPCRequest, signal: AbortSignal): Promise<Result>;
  /** A notification from the backend (progress is handled per request, not here). */
  onBackendNotification(link: BackendLink, notification: Notification): Promise<void>;
}
