/**
 * `key=value` arguments on the command line: typed by a tool's input schema for `call`, strings
 * checked against a prompt's declared arguments for `get`. `--args JSON` gives them all at once;
 * pairs override it.
 */
import type { Prompt, Tool } from '@modelcontextprotocol/sdk/types.js';
import { UsageError } from './io.ts';

/** Tool arguments from `--args` JSON and `key=value` pairs, typed by the tool's input schema. */
export function buildArguments(tool: Pick<Tool, 'name' | 'inputSchema'>, pairs: string[], json?: string): Record<string, unknown> {
  const args = argsJson(json);
  const properties = (tool.inputSchema?.properties ?? {}) as Record<string, { type?: unknown }>;
  const extra = tool.inputSchema?.additionalProperties;
  const closed = extra === false || (Object.keys(properties).length > 0 && (extra === undefined || extra === false));
  for (const pair of pairs) {
    const [key, raw] = split(pair);
    const spec = properties[key];
    if (!spec && closed) {
      const known = Object.keys(properties);
      throw new UsageError(`tool "${tool.name}" has no argument "${key}"${known.length ? ` (it takes: ${known.join(', ')})` : ' (it takes none)'}`);
    }
    args[key] = typed(key, raw, spec?.type);
  }
  return args;
}

/** Prompt arguments (all strings, as MCP has them) from `--args` and pairs, checked against the prompt's. */
export function buildPromptArguments(prompt: Pick<Prompt, 'name' | 'arguments'>, pairs: string[], json?: string): Record<string, string> {
  const args: Record<string, string> = {};
  for (const [key, value] of Object.entries(argsJson(json))) {
    if (typeof value !== 'string') throw new UsageError(`--args: prompt arguments are strings; "${key}" is ${JSON.stringify(value)}`);
    args[key] = value;
  }
  const declared = prompt.arguments ?? [];
  const known = declared.map((a) => a.name);
  for (const pair of pairs) {
    const [key, value] = split(pair);
    args[key] = value;
  }
  for (const key of Object.keys(args)) {
    if (!known.includes(key)) throw new UsageError(`prompt "${prompt.name}" has no argument "${key}"${known.length ? ` (it takes: ${known.join(', ')})` : ' (it takes none)'}`);
  }
  const missing = declared.filter((a) => a.required && args[a.name] === undefined).map((a) => a.name);
  if (missing.length) throw new UsageError(`prompt "${prompt.name}" needs ${missing.map((m) => `${m}=...`).join(' ')}`);
  return args;
}

function argsJson(json: string | undefined): Record<string, unknown> {
  if (json === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new UsageError(`--args is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError('--args must be a JSON object');
  return parsed as Record<string, unknown>;
}

/** `key=value` at the first `=`. */
function split(pair: string): [string, string] {
  const eq = pair.indexOf('=');
  if (eq <= 0) throw new UsageError(`argument "${pair}" is not key=value`);
  return [pair.slice(0, eq), pair.slice(eq + 1)];
}

function typed(key: string, raw: string, type: unknown): unknown {
  const types = Array.isArray(type) ? type.map(String) : type === undefined ? [] : [String(type)];
  if (types.length === 1 && types[0] === 'string') return raw;
  if (types.length === 1 && (types[0] === 'number' || types[0] === 'integer')) {
    const n = Number(raw);
    if (raw.trim() === '' || Number.isNaN(n) || (types[0] === 'integer' && !Number.isInteger(n))) {
      throw new UsageError(`argument ${key} must be ${types[0] === 'integer' ? 'an integer' : 'a number'}, got "${raw}"`);
    }
    return n;
  }
  if (types.length === 1 && types[0] === 'boolean') {
    if (/^(true|yes|1)$/i.test(raw)) return true;
    if (/^(false|no|0)$/i.test(raw)) return false;
    throw new UsageError(`argument ${key} must be true or false, got "${raw}"`);
  }
  if (types.length === 1 && (types[0] === 'object' || types[0] === 'array')) {
    try {
      return JSON.parse(raw);
    } catch {
      throw new UsageError(`argument ${key} must be JSON (${types[0]}), got "${raw}"`);
    }
  }
  // No single declared type: JSON when it parses (numbers, true, {...}), the string otherwise.
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
