/**
 * What a request to a 2026-era backend failed with, turned into the error the client sees: the
 * backend's own JSON-RPC error as it is (also from inside an HTTP error, which the SDK unwraps
 * only for 400s), everything else naming the plugin, with secrets scrubbed.
 */
import { ProtocolError, SdkError, SdkErrorCode, SdkHttpError } from '@modelcontextprotocol/client';
import type { Plugin } from '../../plugins/plugin.ts';
import { RpcCodes, RpcError, SwitchboardError } from '../../errors.ts';
import { redactUrl } from '../../redact.ts';
import { describeNetworkError } from '../fetch.ts';
import { jsonRpcErrorOf } from '../../sdk-workarounds.ts';

/** A failure to reach the backend at all (connection refused, DNS, reset), as opposed to an answer. */
export function isUnreachable(error: unknown): boolean {
  if (error instanceof ProtocolError || error instanceof SdkHttpError) return false;
  if (error instanceof SdkError) return error.code === SdkErrorCode.ConnectionClosed || /fetch failed/.test(error.message);
  return error instanceof TypeError && /fetch failed/.test(error.message);
}

/** Turns what a 2026-era request failed with into the error the client sees. */
export function modernError(error: unknown, plugin: Plugin, method: string, signal?: AbortSignal): Error {
  const label = plugin.label;
  const data = { plugin: plugin.prefix };
  if (error instanceof RpcError || error instanceof SwitchboardError) return error;
  if (ProtocolError.isInstance?.(error) || error instanceof ProtocolError) {
    const protocol = error as ProtocolError;
    return new RpcError(protocol.code, protocol.message, protocol.data);
  }
  if (error instanceof SdkHttpError) {
    // A JSON-RPC error in an HTTP error (see sdk-workarounds.ts): the backend's own error.
    const inside = jsonRpcErrorOf(error);
    if (inside) return new RpcError(inside.code, inside.message, inside.data);
    const text = (error.data as { text?: string } | undefined)?.text;
    const body = plugin.scrub((text ?? '').replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim()).slice(0, 300);
    return new RpcError(RpcCodes.InternalError, `${label} answered ${method} with HTTP ${error.status}${body ? `: ${body}` : ''}`, { ...data, status: error.status });
  }
  if (error instanceof SdkError) {
    if (error.code === SdkErrorCode.RequestTimeout && !signal?.aborted) {
      const timeout = (error.data as { timeout?: number } | undefined)?.timeout ?? plugin.timeoutMs;
      return new RpcError(RpcCodes.RequestTimeout, `${label} did not answer ${method} within ${timeout} ms`, { ...data, timeoutMs: timeout });
    }
    if (error.code === SdkErrorCode.RequestTimeout) return new RpcError(RpcCodes.RequestTimeout, `${method} was cancelled`, data);
    if (error.code === SdkErrorCode.ConnectionClosed) return new RpcError(RpcCodes.ConnectionClosed, `${label} closed the connection during ${method}`, data);
    return new RpcError(RpcCodes.InternalError, plugin.scrub(`${label} failed during ${method}: ${error.message}`), data);
  }
  return new RpcError(RpcCodes.InternalError, plugin.scrub(`${label} failed during ${method} at ${redactUrl(plugin.manifest.remote?.url ?? 'in-process')}: ${describeNetworkError(error)}`), data);
}
