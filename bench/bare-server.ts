/**
 * A bare SDK v1 server over streamable HTTP, serving an in-process plugin's server with nothing
 * in between: the reference the proxy is compared with, and the remote backend it forwards to.
 *
 *   PLUGIN=/abs/path/index.ts PORT=0 node --import tsx bench/bare-server.ts   prints `listening <url>`
 *
 * PLUGIN is a plugin module (its default export a manifest with `server`); each client session
 * gets its own server from the manifest's factory, one SDK transport per session, as the SDK's
 * own examples do. The same module mounted in the proxy serves the same tools, so the two
 * sides of a comparison run the same tool code.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { PluginContext, ServerFactory } from '../core/plugins/manifest.ts';

if (!process.env.PLUGIN) throw new Error('bare-server: set PLUGIN to a plugin module (index.ts)');
const manifest = (await import(pathToFileURL(process.env.PLUGIN).href)) as { default: { server: ServerFactory } };
const transports = new Map<string, StreamableHTTPServerTransport>();

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

const http = createServer(async (req, res) => {
  if (req.url !== '/mcp') {
    res.writeHead(404).end();
    return;
  }
  const body = req.method === 'POST' ? await readBody(req).catch(() => undefined) : undefined;
  const id = req.headers['mcp-session-id'];
  let transport = typeof id === 'string' ? transports.get(id) : undefined;
  if (typeof id === 'string' && !transport) {
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }));
    return;
  }
  if (!transport) {
    const sessionId = randomUUID();
    const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => sessionId,
      onsessioninitialized: (sid) => void transports.set(sid, created),
      onsessionclosed: (sid) => void transports.delete(sid),
    });
    transport = created;
    // The bench's plugins use only the session id; there is no proxy logger here.
    const server = await manifest.default.server({ sessionId } as PluginContext);
    await server.connect(transport);
  }
  await transport.handleRequest(req, res, body);
});

http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = http.address() as AddressInfo;
  console.log(`listening http://127.0.0.1:${port}/mcp`);
});
