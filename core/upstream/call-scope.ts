/**
 * The backend request the current code runs for, on the upstream side. A backend's reply
 * stream is read on the request's own asynchronous path, so whatever the transport reports
 * while reading it (a notification, a broken stream) runs inside this scope and can tell which
 * request, and so which client, it belongs to.
 *
 * One slot for both eras: 2025 backend sessions use `lost` (a reply stream broke),
 * 2026 backends `link` (whose client a notification is for).
 */
import { AsyncSlot } from '../async-slot.ts';
import type { Notification } from '@modelcontextprotocol/sdk/types.js';
import type { Plugin } from '../plugins/plugin.ts';
import { isListMethod } from '../catalog/lists.ts';
import { requestScope } from '../scope.ts';

export interface BackendCall {
  /** The reply stream of this request broke. */
  lost?(error: Error): void;
  /** A notification about this request (progress is handled per request, not here). */
  notify?(notification: Notification): Promise<void>;
  /** HTTP headers this request carries besides the transport's own (`Mcp-Param-*`, forwarded client headers). */
  headers?: Record<string, string>;
}

export const backendCall = new AsyncSlot<BackendCall>('backend call');

/**
 * The client's request headers that a backend request for `method`, made now, carries to
 * `plugin` (its policy's `forwardHeaders`), from the client request being served. Lists carry
 * none: a list is fetched once and shared by every client of an audience, so it must not depend
 * on one client's headers. Nor does the connection's own traffic (initialize, the GET stream),
 * which runs outside any client request.
 */
export function forwardedHeaders(plugin: Plugin, method: string): Record<string, string> | undefined {
  if (plugin.forwarding.none || isListMethod(method)) return undefined;
  return plugin.forwarding.pick(requestScope.getStore()?.headers);
}
