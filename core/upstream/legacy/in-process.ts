/** In-process plugins: a fresh server from the plugin's factory for each connection, linked in memory. */
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Plugin } from '../../plugins/plugin.ts';
import type { McpServerLike } from '../../plugins/manifest.ts';
import { SwitchboardError, messageOf } from '../../errors.ts';
import { newClient, once, type ConnectOptions, type Connection } from './connection.ts';
import { requestScope } from '../../scope.ts';

export async function connectInProcess(plugin: Plugin, options: ConnectOptions): Promise<Connection> {
  const server = await createServer(plugin, options.sessionId);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = newClient(plugin, options);
  try {
    await server.connect(serverSide);
    offerStreamClose(serverSide);
    await client.connect(clientSide, { timeout: plugin.timeoutMs, signal: options.signal });
  } catch (error) {
    await server.close().catch(() => {});
    throw new SwitchboardError('SB_PLUGIN_FACTORY', `${plugin.label}: server failed to initialize: ${messageOf(error)}`, {
      cause: error,
      culprit: plugin.source.display,
    });
  }
  return {
    client,
    close: once(async () => {
      await client.close().catch(() => {});
      await server.close().catch(() => {});
    }),
  };
}

/**
 * A server from an in-process plugin's factory for `sessionId`, or SB_PLUGIN_FACTORY saying why
 * not (the factory threw, or returned something that is not an MCP server). `switchboard check`
 * calls it too, so its messages are the proxy's.
 */
export async function createServer(plugin: Plugin, sessionId: string): Promise<McpServerLike> {
  try {
    const server = await plugin.manifest.server!({ sessionId, log: plugin.log });
    if (typeof server?.connect !== 'function') throw new Error('the factory did not return an MCP server (McpServer or Server)');
    return server;
  } catch (error) {
    throw new SwitchboardError('SB_PLUGIN_FACTORY', `${plugin.label}: server factory failed: ${messageOf(error)}`, {
      cause: error,
      culprit: plugin.source.display,
    });
  }
}

/**
 * An in-process server may close a request's stream mid-call, as a remote one can over HTTP
 * (SSE polling: `extra.closeSSEStream`). In memory there is no stream, so the proxy hands the
 * server the client's own: closing it makes the client resume, as it would with the server
 * directly. Messages are delivered on the forwarded request's async path, so its scope is known.
 */
function offerStreamClose(serverSide: InMemoryTransport): void {
  const deliver = serverSide.onmessage;
  if (!deliver) return;
  serverSide.onmessage = (message, extra) => {
    const closeStream = requestScope.getStore()?.closeStream;
    deliver(message, closeStream ? ({ ...extra, closeSSEStream: closeStream } as typeof extra) : extra);
  };
}
