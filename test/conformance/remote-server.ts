/**
 * The conformance fixture (fixture-server.ts) as a standalone streamable HTTP server, the remote
 * backend of the second conformance set-up. Listens on 127.0.0.1:PORT (0 = any free port) and
 * prints `listening http://127.0.0.1:PORT/mcp` when ready.
 *
 * One McpServer per session. Each session has an in-memory event store, so the server sends
 * priming events and `test_reconnection` really closes its stream mid-call: the proxy's backend
 * client has to reconnect with Last-Event-ID to get the result (SEP-1699). Requests whose Host
 * is not loopback are refused (DNS-rebinding protection), so the suite can also run against this
 * server directly: `PORT=0 npx tsx test/conformance/remote-server.ts`.
 */
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport, type EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { createFixtureServer } from './fixture-server.ts';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const transports = new Map<string, StreamableHTTPServerTransport>();

/** Events of one session, kept until the session ends. */
function memoryEventStore(): EventStore {
  const events: Array<{ id: string; streamId: string; message: JSONRPCMessage }> = [];
  return {
    async storeEvent(streamId, message) {
      const id = `${streamId}.${events.length}`;
      events.push({ id, streamId, message });
      return id;
    },
    async getStreamIdForEventId(eventId) {
      return events.find((event) => event.id === eventId)?.streamId;
    },
    async replayEventsAfter(lastEventId, { send }) {
      const index = events.findIndex((event) => event.id === lastEventId);
      if (index < 0) throw new Error(`unknown event id ${lastEventId}`);
      const { streamId } = events[index]!;
      for (const event of events.slice(index + 1)) {
        if (event.streamId === streamId && Object.keys(event.message).length > 0) await send(event.id, event.message);
      }
      return streamId;
    },
  };
}

function reply(res: import('node:http').ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

const http = createServer(async (req, res) => {
  if (new URL(req.url ?? '/', 'http://x').pathname !== '/mcp') return reply(res, 404, 'Not found');
  const host = new URL(`http://${req.headers.host ?? ''}`).hostname;
  if (!LOOPBACK.has(host)) return reply(res, 403, `Forbidden: Host "${req.headers.host}"`);

  const id = req.headers['mcp-session-id'];
  const lastEventId = req.headers['last-event-id'];
  if (req.method === 'GET' && typeof lastEventId === 'string') console.log(`session ${id}: client resumes after event ${lastEventId}`);
  let transport = typeof id === 'string' ? transports.get(id) : undefined;
  if (typeof id === 'string' && !transport) return reply(res, 404, 'Session not found');
  if (!transport) {
    const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: memoryEventStore(),
      retryInterval: 100,
      onsessioninitialized: (sid) => void transports.set(sid, created),
    });
    created.onclose = () => {
      if (created.sessionId) transports.delete(created.sessionId);
    };
    transport = created;
    await createFixtureServer().connect(transport);
  }
  try {
    await transport.handleRequest(req, res);
  } catch (error) {
    if (!res.headersSent) reply(res, 500, `Internal error: ${(error as Error).message}`);
  }
});

http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = http.address() as AddressInfo;
  console.log(`listening http://127.0.0.1:${port}/mcp`);
});

const stop = () => {
  for (const transport of transports.values()) void transport.close();
  http.close(() => process.exit(0));
  http.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
