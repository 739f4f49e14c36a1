/**
 * The catalog: the merged lists a client sees. Each plugin's items are renamed into its
 * namespace, merged in mount order, and paged. Pure: no I/O, problems are reported through
 * the `report` callback.
 */
import type { Plugin } from '../plugins/plugin.ts';
import type { ListItem, ListKind } from './plugin-catalog.ts';
import { RpcCodes, RpcError } from '../errors.ts';

export interface PluginItems {
  plugin: Plugin;
  items: ListItem[];
}

export type Report = (plugin: Plugin, message: string) => void;

/** The field that names an item of each list, and how it is namespaced. */
const KEY: Record<ListKind, 'name' | 'uri' | 'uriTemplate'> = {
  tools: 'name',
  prompts: 'name',
  resources: 'uri',
  resourceTemplates: 'uriTemplate',
};

/**
 * Merges the plugins' lists of one kind into what a client sees. An item whose client-side
 * name another plugin already took is left out and reported (this can only happen with the
 * plugin mounted without a prefix); an item that cannot be namespaced is left out and reported.
 */
export function merge(kind: ListKind, lists: readonly PluginItems[], report: Report): ListItem[] {
  const key = KEY[kind];
  const merged: ListItem[] = [];
  const owners = new Map<string, Plugin>();
  for (const { plugin, items } of lists) {
    for (const item of items) {
      const original = item[key];
      if (typeof original !== 'string') {
        report(plugin, `left out an item of ${kind} without a "${key}"`);
        continue;
      }
      const exposed = expose(plugin, kind, original);
      if (exposed === undefined) {
        report(plugin, `left out ${kind === 'resourceTemplates' ? 'resource template' : 'resource'} "${original}": it has no URI scheme to namespace`);
        continue;
      }
      const owner = owners.get(exposed);
      if (owner) {
        report(plugin, `left out "${original}": the name "${exposed}" is already taken by ${owner.label}`);
        continue;
      }
      owners.set(exposed, plugin);
      merged.push({ ...item, [key]: exposed });
    }
  }
  return merged;
}

function expose(plugin: Plugin, kind: ListKind, original: string): string | undefined {
  const ns = plugin.namespace;
  switch (kind) {
    case 'tools':
    case 'prompts':
      return ns.exposeName(original, kind);
    case 'resources':
      try {
        return ns.exposeUri(original);
      } catch {
        return undefined;
      }
    case 'resourceTemplates':
      return ns.exposeUriTemplate(original);
  }
}

/**
 * One page of a merged list. The cursor is opaque to clients (an offset); a cursor that does
 * not decode is an invalid-params error, as the protocol asks.
 */
export function page(items: ListItem[], cursor: unknown, pageSize: number): { items: ListItem[]; nextCursor?: string } {
  const offset = cursor === undefined ? 0 : decodeCursor(cursor);
  if (pageSize <= 0) return { items: offset === 0 ? items : items.slice(offset) };
  const slice = items.slice(offset, offset + pageSize);
  const end = offset + slice.length;
  return end < items.length ? { items: slice, nextCursor: encodeCursor(end) } : { items: slice };
}

export function encodeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64url');
}

function decodeCursor(cursor: unknown): number {
  if (typeof cursor === 'string') {
    try {
      const { offset } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { offset?: unknown };
      if (typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0) return offset;
    } catch {
      // fall through to the error below
    }
  }
  throw new RpcError(RpcCodes.InvalidParams, `Invalid cursor: ${JSON.stringify(cursor)}`);
}
