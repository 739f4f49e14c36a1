/**
 * What the proxy tells a new client about itself: the capabilities the mounted backends offer
 * between them, and their instructions combined.
 */
import type { ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { Plugin, ProtocolEra } from '../plugins/plugin.ts';

/**
 * What the proxy offers a new client: tools, prompts and resources always (plugins may come
 * and go), with list_changed; logging, completions, resource subscriptions and tasks only when
 * a mounted backend offers them.
 */
export function advertisedCapabilities(plugins: readonly Plugin[], era: ProtocolEra): ServerCapabilities {
  const offered = plugins.map((plugin) => plugin.infoFor(era)?.capabilities ?? {});
  const capabilities: ServerCapabilities = {
    tools: { listChanged: true },
    prompts: { listChanged: true },
    resources: { listChanged: true, ...(offered.some((c) => c.resources?.subscribe) && { subscribe: true }) },
  };
  if (offered.some((c) => c.logging)) capabilities.logging = {};
  if (offered.some((c) => c.completions)) capabilities.completions = {};
  const tasks = offered.flatMap((c) => (c.tasks ? [c.tasks] : []));
  if (tasks.length) {
    capabilities.tasks = {
      ...(tasks.some((t) => t.list) && { list: {} }),
      ...(tasks.some((t) => t.cancel) && { cancel: {} }),
      ...(tasks.some((t) => t.requests?.tools?.call) && { requests: { tools: { call: {} } } }),
    };
  }
  return capabilities;
}

/** Each backend's instructions, introduced by its prefix. */
export function combinedInstructions(plugins: readonly Plugin[], era: ProtocolEra): string | undefined {
  const parts = plugins
    .filter((plugin) => plugin.infoFor(era)?.instructions)
    .map((plugin) => `## ${plugin.prefix === '' ? plugin.manifest.name ?? 'root' : plugin.prefix}\n\n${plugin.infoFor(era)!.instructions!.trim()}`);
  return parts.length ? parts.join('\n\n') : undefined;
}
