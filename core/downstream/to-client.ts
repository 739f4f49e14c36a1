/**
 * What a backend sends a client, put into the client's view of names: a resource URI in the
 * plugin's namespace, a log message's logger prefixed with the plugin (`prefix` or
 * `prefix/backend-logger`; unchanged without a prefix). The same for both eras.
 */
import type { Plugin } from '../plugins/plugin.ts';

type Params = Record<string, unknown>;

/** Backend-to-client params with the backend's names and URIs put into its namespace. */
export function toClient(plugin: Plugin, method: string, params: Params): Params {
  switch (method) {
    case 'notifications/resources/updated':
      return typeof params.uri === 'string' ? { ...params, uri: safeExposeUri(plugin.namespace, params.uri) } : params;
    case 'notifications/message': {
      if (plugin.prefix === '') return params;
      const logger = typeof params.logger === 'string' && params.logger !== '' ? `${plugin.prefix}/${params.logger}` : plugin.prefix;
      return { ...params, logger };
    }
    default:
      return params;
  }
}

/**
 * Whether a backend's notification would tell clients about something the plugin's policy hides
 * (`plugins.<prefix>.resources`): an update of a hidden resource. Such notifications are dropped,
 * in both eras, as the resource itself is unknown to clients.
 */
export function hiddenByPolicy(plugin: Pick<Plugin, 'policy'>, method: string, params: Params | undefined): boolean {
  return method === 'notifications/resources/updated' && typeof params?.uri === 'string' && !plugin.policy.shows('resources', params.uri);
}

/** The client's spelling of a backend URI (unchanged if it cannot be namespaced). */
export function safeExposeUri(namespace: Plugin['namespace'], uri: string): string {
  try {
    return namespace.exposeUri(uri);
  } catch {
    return uri;
  }
}
