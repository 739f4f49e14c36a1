/**
 * In-process plugins written with the SDK v2 (`McpServer` or `Server` from
 * `@modelcontextprotocol/server`) are spoken to in the 2026-07-28 era, like a remote 2026
 * server, but with no network: requests go straight to an SDK v2 handler over the plugin's own
 * factory, called once per request as SDK v2 servers expect.
 */
import { createMcpHandler, type McpHttpHandler, type McpServer } from '@modelcontextprotocol/server';
import type { Plugin } from '../../plugins/plugin.ts';

/** A fetch that serves requests with the plugin's factory, in this process. */
export function inProcessFetch(plugin: Plugin): { fetch: typeof fetch; close(): Promise<void> } {
  const handler: McpHttpHandler = createMcpHandler(async () => (await plugin.manifest.server!({ sessionId: 'stateless', log: plugin.log, notify: handler.notify })) as unknown as McpServer, {
    legacy: 'reject',
    onerror: (error) => plugin.log.debug({ err: error.message }, 'in-process 2026 request failed'),
  });
  return {
    fetch: (input, init) => handler.fetch(new Request(input, init)),
    close: () => handler.close(),
  };
}
