/**
 * Which protocol era a request to `/mcp` belongs to, decided as SDK v2 servers decide it (the
 * SDK's `classifyInboundRequest`). The SDK v2 costs about half a second to load, so it is loaded
 * on first need (or by `loadEraClassifier`, which the switchboard calls once it listens), not at
 * start-up; once loaded, the classifier is held here and called directly.
 *
 * A request that is not a POST is a 2025-11-25 one whatever else it says (the classifier's first
 * rule), so GET and DELETE (2025 streams and session ends) never wait for the SDK v2.
 */
import type { classifyInboundRequest } from '@modelcontextprotocol/server';

type Classifier = typeof classifyInboundRequest;
export type InboundRequest = Parameters<Classifier>[0];
export type Era = 'legacy' | 'modern';

let classifier: Classifier | undefined;
let loading: Promise<Classifier> | undefined;

/** Loads the SDK v2 classifier (once; later calls share the first load). */
export function loadEraClassifier(): Promise<Classifier> {
  if (!loading) {
    loading = import('@modelcontextprotocol/server').then((sdk) => (classifier = sdk.classifyInboundRequest));
    // A failed load is tried again by the next request, not remembered.
    loading.catch(() => (loading = undefined));
  }
  return loading;
}

/**
 * `legacy` for a 2025-11-25 request; `modern` for a 2026-07-28 one, and for one the classifier
 * refuses (the 2026 front door answers it, as SDK v2 servers do).
 */
export async function eraOf(request: InboundRequest): Promise<Era> {
  if (request.httpMethod.toUpperCase() !== 'POST') return 'legacy';
  const classify = classifier ?? (await loadEraClassifier());
  return classify(request).kind === 'legacy' ? 'legacy' : 'modern';
}
