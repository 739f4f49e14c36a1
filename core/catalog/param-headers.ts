/**
 * `Mcp-Param-*` headers (SEP-2243, 2026-07-28): a tool may mark arguments with `x-mcp-header` in
 * its input schema, so HTTP infrastructure can route on them; a client sends each such argument
 * again as an `Mcp-Param-{Name}` header, and a server refuses a request whose headers and body
 * disagree (400, -32020). The proxy is a server to clients and a client to backends, so it checks
 * what clients send and sends what backends expect. Pure functions.
 */

export interface ParamHeader {
  /** Where the argument is in `arguments` (a chain of `properties` keys). */
  path: string[];
  /** The header is `Mcp-Param-{name}`. */
  name: string;
  type: 'string' | 'integer' | 'boolean' | 'number';
}

const PREFIX = 'Mcp-Param-';
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const TYPES = new Set(['string', 'integer', 'boolean', 'number']);
const SENTINEL = /^=\?base64\?(.*)\?=$/s;
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** What may go into a header value as it is; anything else goes Base64-encoded. */
const PLAIN = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/** The `x-mcp-header` declarations of a tool's input schema, reached through `properties` only. */
export function paramHeaders(inputSchema: unknown): ParamHeader[] {
  const found: ParamHeader[] = [];
  const visit = (node: unknown, path: string[]) => {
    if (!node || typeof node !== 'object') return;
    const schema = node as Record<string, unknown>;
    const name = schema['x-mcp-header'];
    const type = schema.type;
    if (path.length && typeof name === 'string' && TOKEN.test(name) && typeof type === 'string' && TYPES.has(type)) {
      found.push({ path, name, type: type as ParamHeader['type'] });
    }
    const properties = schema.properties;
    if (properties && typeof properties === 'object') for (const [key, child] of Object.entries(properties)) visit(child, [...path, key]);
  };
  visit(inputSchema, []);
  return found;
}

/** The headers a client sends for these arguments. */
export function encodeParamHeaders(declared: readonly ParamHeader[], args: unknown): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const header of declared) {
    const text = asText(valueAt(args, header.path));
    if (text === undefined) continue;
    headers[`${PREFIX}${header.name}`] = PLAIN.test(text) ? text : `=?base64?${Buffer.from(text, 'utf8').toString('base64')}?=`;
  }
  return headers;
}

/**
 * Why a request's headers disagree with its arguments (what a server answers with -32020), or
 * undefined if they agree. `header(name)` reads a request header, case-insensitively.
 */
export function paramHeaderMismatch(declared: readonly ParamHeader[], args: unknown, header: (name: string) => string | undefined): string | undefined {
  for (const declaration of declared) {
    const value = valueAt(args, declaration.path);
    const text = asText(value);
    if (text === undefined) continue;
    const name = `${PREFIX}${declaration.name}`;
    const sent = header(name);
    if (sent === undefined) return `the body carries ${declaration.path.join('.')}=${JSON.stringify(value)} but the ${name} header is absent`;
    const decoded = decode(sent);
    if (decoded === undefined) return `the ${name} header carries an invalid Base64 sentinel value`;
    const numeric = (declaration.type === 'integer' || declaration.type === 'number') && typeof value === 'number' && /^-?\d+(\.\d+)?$/.test(decoded);
    if (numeric ? Number(decoded) !== value : decoded !== text) {
      return `the ${name} header decodes to ${JSON.stringify(decoded)} but the body carries ${declaration.path.join('.')}=${JSON.stringify(value)}`;
    }
  }
  return undefined;
}

function decode(value: string): string | undefined {
  const sentinel = SENTINEL.exec(value);
  if (!sentinel) return value;
  if (!CANONICAL_BASE64.test(sentinel[1]!)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(sentinel[1]!, 'base64'));
  } catch {
    return undefined;
  }
}

function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && Number.isFinite(value) && (!Number.isInteger(value) || Number.isSafeInteger(value))) return String(value);
  return undefined;
}

function valueAt(root: unknown, path: readonly string[]): unknown {
  let node = root;
  for (const key of path) {
    if (!node || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
