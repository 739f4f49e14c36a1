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
import { REQUEST_ID_HEADER, requestIds } from '../observability/request-id.ts';

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
 * `plugin` (its policy's `forwardHeaders`), from the client request being served, and the client
 * request's id (`X-Request-Id`, see observability/request-id.ts), so that the backend's logs can
 * be tied to the proxy's access line. Lists carry none: a list is fetched once and shared by
 * every client of an audience, so it must not depend on one client's headers. Nor does the
 * connection's own traffic (initialize, the GET stream), which runs outside any client request.
 * (Only remote backends get headers; a command or in-process plugin's transport has none.)
 */
export function forwardedHeaders(plugin: Plugin, method: string): Record<string, string> | undefined {
  if (isListMethod(method)) return undefined;
  const requestId = requestIds.getStore();
  const picked = plugin.forwarding.none ? undefined : plugin.forwarding.pick(requestScope.getStore()?.headers);
  return requestId === undefined ? picked : { ...picked, [REQUEST_ID_HEADER]: requestId };
}
