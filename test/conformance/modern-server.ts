/**
 * The 2026-07-28 conformance fixture (modern-fixture.ts) as a standalone server on SDK v2:
 * `createMcpHandler` over node:http at /mcp, on 127.0.0.1:PORT (0 = any free port). Prints
 * `listening http://127.0.0.1:PORT/mcp` when ready.
 *
 * 2026 requests are served statelessly by the handler (envelope checks, server/discover,
 * subscriptions/listen, input_required); 2025 requests by its stateless legacy leg, so 2025
 * scenarios that need a session (server-to-client requests, a GET stream) are not for this
 * server: remote-server.ts serves those. Requests whose Host or Origin is not loopback are
 * refused with 403 (DNS-rebinding protection), so the suite can run against it directly:
 * `PORT=0 npx tsx test/conformance/modern-server.ts`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createMcpHandler,
  hostHeaderValidationResponse,
  localhostAllowedHostnames,
  localhostAllowedOrigins,
  originValidationResponse,
  type McpHttpHandler,
} from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createModernFixture } from './modern-fixture.ts';

const HOSTS = localhostAllowedHostnames();
const ORIGINS = localhostAllowedOrigins();

// The triggers publish through this handler's notify: only it reaches the listen streams.
const handler: McpHttpHandler = createMcpHandler(() => createModernFixture({ notify: () => handler.notify }), {
  legacy: 'stateless',
  onerror: (error) => console.error(`request failed: ${error.message}`),
});
const serve = toNodeHandler({
  fetch: async (request: Request) => hostHeaderValidationResponse(request, HOSTS) ?? originValidationResponse(request, ORIGINS) ?? handler.fetch(request),
});

const http = createServer((req, res) => {
  if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/mcp') {
    return void res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Not found' }, id: null }));
  }
  void serve(req, res);
});

http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = http.address() as AddressInfo;
  console.log(`listening http://127.0.0.1:${port}/mcp`);
});

const stop = () => {
  // Ends open listen streams gracefully before the sockets go.
  void handler.close().finally(() => {
    http.close(() => process.exit(0));
    http.closeAllConnections();
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
