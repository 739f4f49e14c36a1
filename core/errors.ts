/**
 * The one table of coded errors. Every error the proxy reports about a plugin, a config key
 * or a backend is a SwitchboardError with one of these codes, so logs, tests and users can
 * match on the code instead of the wording.
 */
export const ErrorCodes = {
  SB_CONFIG_INVALID: 'invalid configuration',
  SB_PLUGIN_NO_ENTRY: 'plugin folder has no entry file',
  SB_PLUGIN_IMPORT: 'plugin entry failed to import',
  SB_PLUGIN_MANIFEST: 'invalid plugin manifest',
  SB_PLUGIN_DUPLICATE_PREFIX: 'duplicate plugin prefix',
  SB_PLUGIN_PREFIX_OVERLAP: 'ambiguous plugin prefix',
  SB_PLUGIN_FACTORY: 'plugin server factory failed',
  SB_BACKEND_UNAVAILABLE: 'backend unavailable',
  SB_PROCESS_LIMIT: 'too many processes for a plugin',
  SB_MCP_SERVERS: 'invalid mcpServers entry',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class SwitchboardError extends Error {
  readonly code: ErrorCode;
  /** The plugin folder (or config key) the error is about, when there is one. */
  readonly culprit?: string;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; culprit?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SwitchboardError';
    this.code = code;
    this.culprit = options.culprit;
  }
}

/** The message of anything thrown, without assuming it is an Error. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * A JSON-RPC error exactly as it goes to the client: the SDK sends `code`, `message` and
 * `data` of whatever a handler throws, so this carries them unwrapped.
 */
export class RpcError extends Error {
  readonly code: number;
  readonly data?: unknown;

  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = 'RpcError';
    this.code = code;
    if (data !== undefined) this.data = data;
  }
}

/** JSON-RPC and MCP error codes the proxy produces itself. */
export const RpcCodes = {
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  ParseError: -32700,
  ConnectionClosed: -32000,
  RequestTimeout: -32001,
  ResourceNotFound: -32002,
} as const;
