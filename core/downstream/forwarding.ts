/**
 * What both eras check and rewrite when forwarding a request: a tool or prompt request names its
 * item and gives its arguments as an object; the contents of a read, and a backend's error about
 * the URI, carry the URIs the client used, not the backend's.
 */
import type { Result } from '@modelcontextprotocol/sdk/types.js';
import type { Plugin } from '../plugins/plugin.ts';
import { RpcCodes, RpcError } from '../errors.ts';
import { safeExposeUri } from './to-client.ts';

/** The client-side name of a tools/call or prompts/get request; invalid params (-32602) otherwise. */
export function checkNamedParams(method: string, params: Record<string, unknown>): string {
  const exposed = params.name;
  if (typeof exposed !== 'string') throw new RpcError(RpcCodes.InvalidParams, `${method}: "name" must be a string`);
  if (params.arguments !== undefined && !isPlainObject(params.arguments)) {
    throw new RpcError(RpcCodes.InvalidParams, `${method}: "arguments" must be an object (of argument names and values), not ${typeName(params.arguments)}`);
  }
  return exposed;
}

/** A resources/read result with each content's URI as the client spells it. */
export function contentsToClient(plugin: Plugin, result: Result, uri: string, exposed: string): Result {
  if (!Array.isArray(result.contents)) return result;
  return {
    ...result,
    contents: result.contents.map((content: Record<string, unknown>) =>
      typeof content.uri === 'string' ? { ...content, uri: content.uri === uri ? exposed : safeExposeUri(plugin.namespace, content.uri) } : content,
    ),
  };
}

/**
 * A backend's error about `uri` as the client should read it: the URI the client used in place of
 * the backend's, in the message ("Resource docs://intro not found") and in `data.uri`.
 */
export function uriErrorToClient(error: unknown, uri: string, exposed: string): unknown {
  if (!(error instanceof RpcError) || uri === exposed) return error;
  const data = isPlainObject(error.data) && error.data.uri === uri ? { ...error.data, uri: exposed } : error.data;
  const message = error.message.split(uri).join(exposed);
  if (message === error.message && data === error.data) return error;
  return new RpcError(error.code, message, data);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
