/**
 * A real browser as an MCP client: headless Chromium (Debian's, driven by playwright-core)
 * loads a page from one origin (http://127.0.0.1:<port>) and calls the proxy on another
 * (http://localhost:<port>) with fetch, as a web-based MCP client would. With that origin in
 * `cors.origins` the whole handshake works, reading `Mcp-Session-Id` from a response header;
 * from an origin not listed, the browser itself blocks the request.
 *
 * Needs /usr/bin/chromium (`apt-get install chromium`; .ci/run installs it). Without it this
 * test fails and says so: it does not skip.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ROOT, startProxy } from './helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
/** Headless on this machine's closed network: no sandbox (root), no GPU, no background traffic. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The page: an MCP handshake and a tool call over fetch, as a browser-based client does it. */
const PAGE = `<!doctype html>
<title>MCP in a browser</title>
<script>
  const ACCEPT = 'application/json, text/event-stream';
  /** The JSON-RPC messages of an answer, whether it came as JSON or as an SSE stream. */
  async function messages(response) {
    const text = await response.text();
    if (!(response.headers.get('content-type') || '').includes('text/event-stream')) return text ? [JSON.parse(text)] : [];
    return text.split('\\n').filter((line) => line.startsWith('data: ') && line.length > 6).map((line) => JSON.parse(line.slice(6)));
  }
  window.mcpHandshake = async (url) => {
    const post = (body, headers = {}) =>
      fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: ACCEPT, ...headers }, body: JSON.stringify(body) });
    const init = await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'browser', version: '1' } } });
    const sessionId = init.headers.get('Mcp-Session-Id');
    const [initialized] = await messages(init);
    if (!sessionId) return { error: 'Mcp-Session-Id is not readable from the initialize answer', status: init.status };
    const session = { 'Mcp-Session-Id': sessionId, 'Mcp-Protocol-Version': initialized.result.protocolVersion };
    const notified = await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, session);
    const call = await post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'example_hello_world', arguments: {} } }, session);
    const [answer] = await messages(call);
    const ended = await fetch(url, { method: 'DELETE', headers: session });
    return { sessionId, server: initialized.result.serverInfo.name, notified: notified.status, text: answer.result.content[0].text, ended: ended.status };
  };
</script>`;

async function servePage(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

test('a web page on a listed origin does the MCP handshake and calls a tool from a real browser; on an origin not listed, the browser blocks it (CORS)', { timeout: 120_000 }, async () => {
  if (!existsSync(CHROMIUM)) {
    assert.fail(`Chromium is not installed at ${CHROMIUM}, and this test needs a real browser. Install it with: apt-get update && apt-get install -y chromium (Debian; .ci/run does this)`);
  }
  const listed = await servePage();
  const unlisted = await servePage();
  const proxy = await startProxy({ pluginDirs: [join(ROOT, 'plugins')], cors: { origins: [listed.origin] } });
  // Another origin than either page: the proxy as localhost, the pages as 127.0.0.1.
  const url = proxy.url.replace('127.0.0.1', 'localhost');
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
    const page = await browser.newPage();
    const console: string[] = [];
    page.on('console', (message) => console.push(message.text()));

    await page.goto(`${listed.origin}/`);
    const done = await page.evaluate((mcp) => (window as unknown as { mcpHandshake: (url: string) => Promise<Record<string, unknown>> }).mcpHandshake(mcp), url);
    assert.equal(done.error, undefined, `the handshake from ${listed.origin}: ${JSON.stringify(done)}`);
    assert.match(String(done.sessionId), /^[A-Za-z0-9_-]+\.[0-9a-f-]{36}$/, 'the page read Mcp-Session-Id (<replicaId>.<uuid>) from the response headers');
    assert.equal(done.server, 'mcp-switchboard');
    assert.equal(done.notified, 202);
    assert.equal(done.text, 'Hello from the example MCP server!');
    assert.equal(done.ended, 200, 'DELETE ends the session');
    assert.equal(proxy.switchboard.sessions.size, 0);

    await page.goto(`${unlisted.origin}/`);
    const blocked = await page.evaluate(
      (mcp) =>
        (window as unknown as { mcpHandshake: (url: string) => Promise<unknown> }).mcpHandshake(mcp).then(
          (result) => ({ result }),
          (error: Error) => ({ error: `${error.name}: ${error.message}` }),
        ),
      url,
    );
    assert.deepEqual(blocked, { error: 'TypeError: Failed to fetch' }, `the browser refuses the page on ${unlisted.origin}`);
    assert.ok(
      console.some((line) => line.includes(`from origin '${unlisted.origin}' has been blocked by CORS policy`)),
      `Chromium says why: ${JSON.stringify(console)}`,
    );
    assert.equal(proxy.switchboard.sessions.size, 0, 'the blocked page opened no session');
  } finally {
    await browser?.close();
    await proxy.close();
    listed.server.close();
    unlisted.server.close();
  }
});
