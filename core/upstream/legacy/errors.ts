/**
 * What went wrong with a backend request, told apart (is the backend session gone? was the
 * request ever delivered?) and turned into the error the client sees: the backend's own JSON-RPC
 * error unchanged, everything else naming the plugin, with its secrets scrubbed and long bodies
 * (an HTML error page) cut short.
 */
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Plugin } from '../../plugins/plugin.ts';
import { RpcCodes, RpcError, SwitchboardError, messageOf } from '../../errors.ts';
import { describeNetworkError } from '../fetch.ts';

/** Longest backend text quoted in an error. */
const MAX_QUOTED = 300;

/**
 * The backend no longer knows this backend session (it restarted, or expired the session).
 * Servers say so with 404 (as the spec asks), and some with 400 and a body that names the
 * session ("Bad Request: No valid session ID provided", "Session not found", "invalid session").
 * Either way the backend refused the request without running it, so it may be sent again on a
 * new backend session.
 */
export function isSessionGone(error: unknown): boolean {
  if (!(error instanceof StreamableHTTPError)) return false;
  if (error.code === 404) return true;
  return error.code === 400 && /session/i.test(error.message);
}

/**
 * The request never reached the backend: the process it would be written to is not running
 * (it died while idle), or the write failed. Sending it again on a new connection is safe,
 * whatever the method.
 */
export class NotDeliveredError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NotDeliveredError';
  }
}

export function isNotDelivered(error: unknown): boolean {
  return error instanceof NotDeliveredError;
}

export interface BackendErrorContext {
  plugin: Plugin;
  method: string;
  /** Why the proxy stopped using the backend (reloaded, removed), if it did. */
  retiredBecause?: string;
}

/** Turns whatever a backend request failed with into the error the client should see. */
export function backendError(error: unknown, { plugin, method, retiredBecause }: BackendErrorContext): RpcError {
  const label = plugin.label;
  const data = { plugin: plugin.prefix };
  if (error instanceof RpcError) return error;
  if (error instanceof SwitchboardError) {
    const cause = error.cause;
    if (cause instanceof McpError && cause.code === RpcCodes.RequestTimeout && isTimeoutData(cause.data)) {
      return new RpcError(RpcCodes.RequestTimeout, `${label} did not answer initialize within ${cause.data.timeout} ms (opening a backend session for ${method})`, {
        ...data,
        timeoutMs: cause.data.timeout,
      });
    }
    return new RpcError(RpcCodes.InternalError, plugin.scrub(error.message), { ...data, reason: error.code });
  }
  if (error instanceof McpError) {
    if (error.code === RpcCodes.RequestTimeout && isTimeoutData(error.data)) {
      return new RpcError(RpcCodes.RequestTimeout, `${label} did not answer ${method} within ${error.data.timeout} ms`, {
        ...data,
        timeoutMs: error.data.timeout,
      });
    }
    if (error.code === RpcCodes.ConnectionClosed && /Connection closed/.test(error.message)) {
      const what = retiredBecause ? `was ${retiredBecause} while ${method} was in progress` : `closed the connection during ${method}`;
      return new RpcError(RpcCodes.ConnectionClosed, `${label} ${what}`, data);
    }
    // The backend's own error: code, message and data as it sent them.
    const prefix = `MCP error ${error.code}: `;
    const message = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    return new RpcError(error.code, message, error.data);
  }
  if (error instanceof StreamableHTTPError && (error.code ?? 0) > 0) {
    const body = error.message.replace(/^Streamable HTTP error: (Error POSTing to endpoint: )?/, '');
    return new RpcError(RpcCodes.InternalError, `${label} answered ${method} with HTTP ${error.code}: ${quote(plugin, body)}`, { ...data, status: error.code });
  }
  if (error instanceof SyntaxError) {
    return new RpcError(RpcCodes.InternalError, `${label} answered ${method} with something that is not JSON-RPC: ${quote(plugin, error.message)}`, data);
  }
  return new RpcError(RpcCodes.InternalError, `${label} failed during ${method}: ${quote(plugin, describeNetworkError(error))}`, data);
}

/** Backend text fit to quote: secrets scrubbed, markup stripped, cut short. */
function quote(plugin: Plugin, text: string): string {
  const plain = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  const scrubbed = plugin.scrub(plain);
  return scrubbed.length > MAX_QUOTED ? `${scrubbed.slice(0, MAX_QUOTED)}...` : scrubbed || messageOf(text);
}

function isTimeoutData(data: unknown): data is { timeout: number } {
  return typeof data === 'object' && data !== null && typeof (data as { timeout?: unknown }).timeout === 'number';
}
