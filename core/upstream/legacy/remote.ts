/**
 * Remote plugins: an MCP endpoint over streamable HTTP, or the legacy SSE transport. Each
 * connection is its own backend session. Credentials in the URL (`https://user:pw@host/mcp`)
 * become a Basic `Authorization` header, since fetch refuses such URLs; the URL is only ever
 * shown redacted. Each request also carries its own headers (the client's that the plugin
 * forwards; see call-scope.ts).
 */
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import type { Plugin } from '../../plugins/plugin.ts';
import { SwitchboardError } from '../../errors.ts';
import { redactUrl, splitCredentials } from '../../redact.ts';
import { describeNetworkError, withCallHeaders, withHeaders } from '../fetch.ts';
import { keepAliveFetch } from '../http-fetch.ts';
import { newClient, once, type ConnectOptions, type Connection } from './connection.ts';
import { requestScope } from '../../scope.ts';

/**
 * fetch for a backend session. A backend that closes a request's stream on purpose (SSE
 * polling) is reconnected to by the SDK with `Last-Event-ID`, on that request's async path: the
 * client's stream of the request is closed then too, so it resumes as it would directly.
 */
const followingStreamCloses: typeof fetch = withCallHeaders((input, init) => {
  if (init?.method === 'GET' && new Headers(init.headers).has('last-event-id')) requestScope.getStore()?.closeStream?.();
  return keepAliveFetch(input, init);
});

export async function connectRemote(plugin: Plugin, options: ConnectOptions): Promise<Connection> {
  const remote = plugin.manifest.remote!;
  const { url } = splitCredentials(remote.url);
  const headers = plugin.remoteHeaders;
  const requestInit: RequestInit = { headers };
  // Which transport answered last time is remembered per plugin, so later sessions skip the failed try.
  const preferred = remote.transport && remote.transport !== 'auto' ? remote.transport : plugin.remoteTransport;
  const attempts: Array<'streamable-http' | 'sse'> = preferred ? [preferred] : ['streamable-http', 'sse'];

  let lastError: unknown;
  for (const kind of attempts) {
    const client = newClient(plugin, options);
    const transport =
      kind === 'streamable-http'
        ? new StreamableHTTPClientTransport(url, { requestInit, fetch: followingStreamCloses })
        : new SSEClientTransport(url, { requestInit, fetch: withCallHeaders(fetch), eventSourceInit: { fetch: withHeaders(headers) } });
    try {
      await client.connect(transport, { timeout: plugin.timeoutMs, signal: options.signal });
      plugin.remoteTransport = kind;
      return {
        client,
        close: once(async () => {
          if (transport instanceof StreamableHTTPClientTransport && transport.sessionId) {
            await transport.terminateSession().catch((error) => plugin.log.debug({ err: plugin.scrub(String(error)) }, 'DELETE to backend failed'));
          }
          await client.close().catch(() => {});
        }),
      };
    } catch (error) {
      lastError = error;
      await client.close().catch(() => {});
      // Only an HTTP answer that says "not streamable HTTP here" is worth the SSE try.
      const notStreamable = error instanceof StreamableHTTPError && [400, 404, 405].includes(error.code ?? 0);
      if (!notStreamable) break;
    }
  }
  throw new SwitchboardError('SB_BACKEND_UNAVAILABLE', plugin.scrub(`${plugin.label}: cannot reach ${redactUrl(remote.url)}: ${describeNetworkError(lastError)}`), {
    cause: lastError,
    culprit: plugin.source.display,
  });
}
