/**
 * The fetch the proxy gives remote backend transports: one signal per request, none of them a
 * listener on the transport's signal, and every one still aborted when the transport closes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getEventListeners } from 'node:events';
import { fetchWithOwnSignal } from '../core/upstream/fetch.ts';

let server: Server;
let url: string;

before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/slow') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': open\n\n'); // never ends
      return;
    }
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

test('a long-lived transport signal keeps one listener, not one per request', async () => {
  const transport = new AbortController();
  await Promise.all(
    Array.from({ length: 200 }, async () => {
      const response = await fetchWithOwnSignal(`${url}/`, { signal: transport.signal });
      assert.equal(await response.text(), 'ok');
    }),
  );
  assert.equal(getEventListeners(transport.signal, 'abort').length, 1, '200 requests, one listener');
});

test('closing the transport still aborts a request in flight', async () => {
  const transport = new AbortController();
  const response = await fetchWithOwnSignal(`${url}/slow`, { signal: transport.signal });
  const reader = response.body!.getReader();
  await reader.read();
  transport.abort(new Error('transport closed'));
  await assert.rejects(reader.read(), /transport closed|aborted/);
});

test('a transport closed before a request starts aborts it at once', async () => {
  const transport = new AbortController();
  transport.abort(new Error('already closed'));
  await assert.rejects(fetchWithOwnSignal(`${url}/`, { signal: transport.signal }), /already closed/);
});
