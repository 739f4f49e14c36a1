/**
 * Which backend serves a stateless (2026-era) client: a 2026-era plugin's one connection,
 * carrying this client's capabilities, identity and log level; for a 2025-era plugin, the backend
 * session shared by clients of its audience (upstream/shared.ts). What a 2026 backend says about a
 * request goes to that request's stream.
 */
import { CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, LOG_LEVEL_META_KEY, type AuthInfo } from '@modelcontextprotocol/server';
import type { ClientCapabilities, Implementation } from '@modelcontextprotocol/sdk/types.js';
import type { Backends } from '../router.ts';
import type { Plugin } from '../../plugins/plugin.ts';
import type { SharedBackends } from '../../upstream/legacy/shared.ts';
import type { BackendPeer } from '../../upstream/link.ts';
import { requestScope } from '../../scope.ts';
import { hiddenByPolicy, toClient } from '../to-client.ts';
import { RpcCodes, RpcError } from '../../errors.ts';
import { ANONYMOUS, type Principal } from '../../auth/principal.ts';

/** The per-request envelope's `_meta` keys, as a plain record. */
export type Envelope = Record<string, unknown>;

export function capabilitiesOf(envelope: Envelope): ClientCapabilities {
  return (envelope[CLIENT_CAPABILITIES_META_KEY] ?? {}) as ClientCapabilities;
}

/**
 * The caller rides to the SDK's handlers as the request's `authInfo` (the SDK passes it through
 * untouched); the token itself stays behind.
 */
export function authInfoFor(principal: Principal): AuthInfo {
  return { token: '', clientId: principal.id, scopes: [], extra: { principal } };
}

export function principalOf(authInfo: AuthInfo | undefined): Principal {
  return (authInfo?.extra?.principal as Principal | undefined) ?? ANONYMOUS;
}

/** The backends for one stateless request, from its caller and envelope. */
export function backendsFor(principal: Principal, envelope: Envelope, options: { shared: SharedBackends; serverInfo: Implementation }): Backends {
  const capabilities = capabilitiesOf(envelope);
  const clientInfo = (envelope[CLIENT_INFO_META_KEY] ?? options.serverInfo) as Implementation;
  const logLevel = envelope[LOG_LEVEL_META_KEY] as string | undefined;
  let peer: BackendPeer | undefined;
  return {
    principal,
    backend: (plugin: Plugin) =>
      plugin.upstream ? plugin.upstream.link((peer ??= statelessPeer(capabilities, clientInfo, logLevel))) : options.shared.backend(plugin, capabilities),
  };
}

/** A stateless client as a 2026-era backend sees it: what it declares; what the backend says about a request goes to that request. */
function statelessPeer(capabilities: ClientCapabilities, clientInfo: Implementation, logLevel: string | undefined): BackendPeer {
  return {
    id: 'stateless',
    clientCapabilities: () => capabilities,
    clientInfo: () => clientInfo,
    logLevel: () => logLevel,
    onBackendRequest: async (_link, request) => {
      throw new RpcError(RpcCodes.MethodNotFound, `${request.method}: a 2026-07-28 backend asks for input with input_required, not with a request`);
    },
    onBackendNotification: async (link, notification) => {
      const scope = requestScope.getStore();
      if (!scope?.stateless || scope.done || hiddenByPolicy(link.plugin, notification.method, notification.params)) return;
      await scope.stateless.notify({ method: notification.method, params: toClient(link.plugin, notification.method, (notification.params ?? {}) as Record<string, unknown>) });
    },
  };
}
