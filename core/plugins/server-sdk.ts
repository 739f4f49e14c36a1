/**
 * Which SDK made an in-process plugin's server: an SDK v2 server (`McpServer` or `Server` from
 * `@modelcontextprotocol/server`) is spoken to in the 2026-07-28 era, an SDK v1 one in 2025-11-25.
 *
 * The SDK v2 is not loaded to answer this for an SDK v1 server: the proxy has SDK v1 loaded
 * anyway, so an SDK v1 server is told by `instanceof` alone. Anything else is checked against the
 * SDK v2's classes; a plugin that made an SDK v2 server loaded the SDK v2 already (plugins import
 * the proxy's own copy, see import-hooks.ts), so that costs nothing then.
 */
import { Server as V1Server } from '@modelcontextprotocol/sdk/server/index.js';

/** Whether a factory's server is an SDK v2 server. */
export async function isModernServer(server: unknown): Promise<boolean> {
  if (typeof server !== 'object' || server === null) return false;
  // An SDK v1 McpServer wraps an SDK v1 Server (`.server`); an SDK v2 one wraps an SDK v2 Server.
  if (server instanceof V1Server || (server as { server?: unknown }).server instanceof V1Server) return false;
  const { McpServer, Server } = await import('@modelcontextprotocol/server');
  return server instanceof McpServer || server instanceof Server;
}
