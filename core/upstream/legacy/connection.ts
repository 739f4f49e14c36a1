/**
 * Connecting: one MCP client connection to a plugin's backend, for one client session (or for
 * the proxy's own probe). Each kind of plugin has its own file: in-process.ts (a fresh server
 * from the factory, linked in memory), remote.ts (its own HTTP session), command.ts (its own
 * child process).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { ClientCapabilities, Implementation } from '@modelcontextprotocol/sdk/types.js';
import type { Plugin } from '../../plugins/plugin.ts';
import { sharedValidator } from '../../validator.ts';

export interface ConnectOptions {
  /** The client session this connection serves (`probe` for the proxy's own check). */
  sessionId: string;
  /** Declared to the backend, so it offers what it would offer the real client. */
  capabilities: ClientCapabilities;
  clientInfo: Implementation;
  /** Installs handlers on the client before it connects (backend-to-client traffic). */
  setup?: (client: Client) => void;
  /** Aborting gives up connecting at once (the backend session was closed while it opened). */
  signal?: AbortSignal;
}

export interface Connection {
  client: Client;
  /** Ends the backend session (a remote backend gets its DELETE, a process ends). Idempotent. */
  close(): Promise<void>;
}

/** A new SDK client for `plugin`, declaring the client session's capabilities. */
export function newClient(plugin: Plugin, options: ConnectOptions): Client {
  const client = new Client(options.clientInfo, { capabilities: options.capabilities, jsonSchemaValidator: sharedValidator });
  client.onerror = (error) => plugin.log.debug({ err: plugin.scrub(error.message) }, 'backend connection error');
  options.setup?.(client);
  return client;
}

/** `close` for a Connection: runs once; later calls wait for that one. */
export function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}
