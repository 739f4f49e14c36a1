/**
 * The four MCP lists as the protocol names them: the method that reads each, the capability that
 * offers it, the notifications that change it, and reading one whole list from a backend, page
 * by page. The same in both eras.
 */
import type { Result, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { RpcCodes, RpcError } from '../errors.ts';
import type { ListItem, ListKind } from './plugin-catalog.ts';

export const LIST_METHOD: Record<ListKind, string> = {
  tools: 'tools/list',
  prompts: 'prompts/list',
  resources: 'resources/list',
  resourceTemplates: 'resources/templates/list',
};

/** Whether `method` reads one of the lists. */
export function isListMethod(method: string): boolean {
  return Object.values(LIST_METHOD).includes(method);
}

export const LIST_CAPABILITY: Record<ListKind, keyof ServerCapabilities> = {
  tools: 'tools',
  prompts: 'prompts',
  resources: 'resources',
  resourceTemplates: 'resources',
};

/** The lists a `notifications/.../list_changed` says changed. */
export const LIST_CHANGED: Record<string, ListKind[]> = {
  'notifications/tools/list_changed': ['tools'],
  'notifications/prompts/list_changed': ['prompts'],
  'notifications/resources/list_changed': ['resources', 'resourceTemplates'],
};

/** A backend's list may not run on forever: pages past this many are an error. */
const MAX_PAGES = 1000;

/**
 * Every item of one list, following the backend's cursors (a cursor seen before ends it).
 * `label` names the plugin in errors; `request` sends one page's request.
 */
export async function readAllPages(label: string, kind: ListKind, request: (method: string, params: { cursor: string } | undefined) => Promise<Result>): Promise<ListItem[]> {
  const method = LIST_METHOD[kind];
  const items: ListItem[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const result = await request(method, cursor === undefined ? undefined : { cursor });
    const pageItems = result[kind];
    if (!Array.isArray(pageItems)) throw new RpcError(RpcCodes.InternalError, `${label}: ${method} answered without a "${kind}" list`);
    items.push(...(pageItems as ListItem[]));
    const next = result.nextCursor;
    if (typeof next !== 'string' || next === '' || seen.has(next)) return items;
    seen.add(next);
    cursor = next;
  }
  throw new RpcError(RpcCodes.InternalError, `${label}: ${method} did not end after ${MAX_PAGES} pages`);
}
