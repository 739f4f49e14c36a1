/**
 * The least any HTTP proxy does: each request passed on as it is to TARGET over a kept-alive
 * connection, and the reply piped back, with no MCP in between (nothing parsed, renamed or
 * checked). The bench compares it with the bare server it fronts, the same way as the remote
 * plugin row: what is left is the cost of one more HTTP hop on this machine, which no proxy can
 * go below.
 *
 *   TARGET=http://127.0.0.1:PORT/mcp PORT=0 node bench/pass-through.ts   prints `listening <url>`
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

if (!process.env.TARGET) throw new Error('pass-through: set TARGET to the URL to pass requests to');
const target = new URL(process.env.TARGET);
const agent = new http.Agent({ keepAlive: true });

const server = http.createServer((req, res) => {
  const onward = http.request(
    { host: target.hostname, port: target.port, path: target.pathname, method: req.method, headers: { ...req.headers, host: target.host }, agent },
    (reply) => {
      res.writeHead(reply.statusCode ?? 502, reply.headers);
      reply.pipe(res);
    },
  );
  onward.on('error', () => res.destroy());
  res.on('close', () => {
    if (!res.writableFinished) onward.destroy(); // the client went away mid-answer
  });
  req.pipe(onward);
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}${target.pathname}`);
});
