/**
 * The config's `plugins` key: a policy per plugin, keyed by prefix (a folder plugin's manifest
 * prefix, an `mcpServers` entry's key as made valid), checked strictly like every setting.
 * What each field does is done elsewhere: lists in catalog/policy.ts and catalog/namespace.ts,
 * headers in upstream/forward-headers.ts, the rest in plugins/plugin.ts and plugins/lifecycle.ts.
 */
import { z } from 'zod';
import { PREFIX_PATTERN } from '../plugins/manifest.ts';
import { isPattern, neverForwarded } from '../upstream/forward-headers.ts';

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What MCP allows as a tool or prompt name. */
const ITEM_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

const globs = z.array(z.string().min(1, { error: 'a glob may not be empty' }));
const texts = z.record(z.string(), z.string());

const namedRules = z
  .strictObject({
    allow: globs.optional(),
    deny: globs.optional(),
    rename: z.record(z.string(), z.string().regex(ITEM_NAME, { error: 'must be 1-128 letters, digits, "_", "-" or "."' })).optional(),
    descriptions: texts.optional(),
  })
  .superRefine((rules, ctx) => {
    const seen = new Map<string, string>();
    for (const [from, to] of Object.entries(rules.rename ?? {})) {
      const other = seen.get(to);
      if (other !== undefined) ctx.addIssue({ code: 'custom', path: ['rename'], message: `"${other}" and "${from}" are both renamed to "${to}"` });
      seen.set(to, from);
    }
  });

const resourceRules = z.strictObject({
  allow: globs.optional(),
  deny: globs.optional(),
  descriptions: texts.optional(),
});

export const pluginPolicySchema = z
  .strictObject({
    enabled: z.boolean().optional(),
    required: z.boolean().optional(),
    timeoutMs: z.number().int().positive().max(24 * 60 * 60 * 1000).optional(),
    tools: namedRules.optional(),
    prompts: namedRules.optional(),
    resources: resourceRules.optional(),
    forwardHeaders: z.array(z.string()).optional(),
    headers: z.record(z.string(), z.string()).optional(),
  })
  .superRefine((policy, ctx) => {
    if (policy.enabled === false && policy.required === true) {
      ctx.addIssue({ code: 'custom', path: ['required'], message: 'a plugin that is not enabled cannot be required' });
    }
    for (const entry of policy.forwardHeaders ?? []) {
      const problem = !HEADER_NAME.test(entry) ? `"${entry}" is not a header name (or a pattern with * and ?)` : isPattern(entry) ? undefined : refusal(entry);
      if (problem) ctx.addIssue({ code: 'custom', path: ['forwardHeaders'], message: problem });
    }
    for (const name of Object.keys(policy.headers ?? {})) {
      const problem = !HEADER_NAME.test(name) ? `"${name}" is not a header name` : refusal(name, 'set');
      if (problem) ctx.addIssue({ code: 'custom', path: ['headers', name], message: problem });
    }
  });

function refusal(name: string, verb = 'forwarded'): string | undefined {
  const why = neverForwarded(name);
  return why && `"${name}" is never ${verb} (${why})`;
}

export type PluginPolicy = z.infer<typeof pluginPolicySchema>;

/** How messages name a plugin's policy in the config: `plugins.github`, `plugins[""]`. */
export function policyKey(prefix: string): string {
  return prefix === '' ? 'plugins[""]' : `plugins.${prefix}`;
}

export const pluginPoliciesSchema = z.record(
  z.string().regex(PREFIX_PATTERN, { error: 'is not a plugin prefix (1-32 letters, digits, "_" or "-", starting with a letter or digit; "" for the plugin without one)' }),
  pluginPolicySchema,
);
