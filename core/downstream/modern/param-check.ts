/**
 * SEP-2243 for stateless clients: a tools/call whose `Mcp-Param-*` headers disagree with its
 * arguments is refused, 400 and -32020, as the tool's own server would refuse it. The proxy checks
 * against the tool's schema in the catalog, before the request reaches the SDK (whose own check
 * needs an McpServer with the tools registered, which a proxy does not have).
 */
import type { IncomingMessage } from 'node:http';
import type { Backends, Router } from '../router.ts';
import { paramHeaderMismatch, paramHeaders } from '../../catalog/param-headers.ts';
import type { Envelope } from './clients.ts';

/** The JSON-RPC error to answer with (HTTP 400), or undefined when the request may go on. */
export async function checkParamHeaders(req: IncomingMessage, body: unknown, router: Router, backendsFor: (envelope: Envelope) => Backends): Promise<Record<string, unknown> | undefined> {
  const call = body as { id?: unknown; method?: unknown; params?: { name?: unknown; arguments?: unknown; _meta?: Envelope } } | undefined;
  if (call?.method !== 'tools/call' || typeof call.params?.name !== 'string') return undefined;
  const tool = await router.tool(call.params.name, backendsFor(call.params._meta ?? {}));
  const declared = tool ? paramHeaders(tool.inputSchema) : [];
  if (!declared.length) return undefined;
  const mismatch = paramHeaderMismatch(declared, call.params.arguments, (name) => {
    const value = req.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  });
  if (!mismatch) return undefined;
  return {
    jsonrpc: '2.0',
    id: call.id ?? null,
    error: { code: -32020, message: `Bad Request: the request headers and body disagree: ${mismatch}`, data: { mismatch: { header: mismatch, body: mismatch } } },
  };
}
