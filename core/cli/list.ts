/** `switchboard list URL`: tools (with their arguments), prompts, resources and templates. */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import { defineCommand } from './command.ts';
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, all, firstLine, printJson, withClient } from './client.ts';
import { EXIT, UsageError, styleFor, type CliIO } from './io.ts';

export const listCommand = defineCommand({
  name: 'list',
  usage: 'switchboard list URL [--json] [--header "Name: value"]... [--token TOKEN]',
  summary: 'Lists the tools (with their arguments), prompts, resources and resource templates of any MCP endpoint.',
  details: `Speaks streamable HTTP, falling back to the legacy SSE transport.

options:
${CLIENT_OPTIONS_HELP}`,
  options: CLIENT_OPTIONS,
  async run({ values, positionals }, io) {
    const [url, ...extra] = positionals;
    if (!url) throw new UsageError('missing URL (e.g. http://localhost:8490/mcp)');
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
    return withClient('list', url, values, io, (client) => list(client, values.json === true, io));
  },
});

async function list(client: Client, json: boolean, io: CliIO): Promise<number> {
  const capabilities = client.getServerCapabilities() ?? {};
  const tools = capabilities.tools ? await all<Tool>((cursor) => client.listTools({ cursor }), 'tools') : [];
  const prompts = capabilities.prompts ? await all<Prompt>((cursor) => client.listPrompts({ cursor }), 'prompts') : [];
  const resources = capabilities.resources ? await all<Resource>((cursor) => client.listResources({ cursor }), 'resources') : [];
  const resourceTemplates = capabilities.resources ? await all<ResourceTemplate>((cursor) => client.listResourceTemplates({ cursor }), 'resourceTemplates') : [];
  if (json) {
    printJson(io, { tools, prompts, resources, resourceTemplates });
    return EXIT.ok;
  }
  const style = styleFor(io.stdout, io.env);
  const heading = (text: string) => style.paint('bold', text);
  const name = (text: string) => style.paint('cyan', text);
  const dim = (text: string) => style.paint('dim', text);
  const described = (text: string | undefined) => (text ? `  ${dim(firstLine(text))}` : '');
  const out: string[] = [heading(`Tools (${tools.length})`)];
  for (const tool of tools) {
    out.push(`  ${name(tool.name)}${described(tool.description)}`);
    const properties = (tool.inputSchema?.properties ?? {}) as Record<string, { type?: unknown; description?: string }>;
    const required = new Set(tool.inputSchema?.required ?? []);
    const names = Object.keys(properties);
    if (names.length === 0) out.push(`      ${dim('(no arguments)')}`);
    for (const argument of names) {
      const spec = properties[argument]!;
      const type = Array.isArray(spec.type) ? spec.type.join('|') : String(spec.type ?? 'any');
      out.push(`      ${argument}: ${type}${required.has(argument) ? style.paint('yellow', ' (required)') : ''}${described(spec.description)}`);
    }
  }
  out.push('', heading(`Prompts (${prompts.length})`));
  for (const prompt of prompts) {
    const args = (prompt.arguments ?? []).map((a) => `${a.name}${a.required ? '' : '?'}`).join(', ');
    out.push(`  ${name(prompt.name)}(${args})${described(prompt.description)}`);
  }
  out.push('', heading(`Resources (${resources.length})`));
  for (const resource of resources) {
    out.push(`  ${name(resource.uri)}${resource.name ? `  ${resource.name}` : ''}${resource.mimeType ? `  ${dim(`(${resource.mimeType})`)}` : ''}`);
  }
  out.push('', heading(`Resource templates (${resourceTemplates.length})`));
  for (const template of resourceTemplates) out.push(`  ${name(template.uriTemplate)}${template.name ? `  ${template.name}` : ''}`);
  io.stdout.write(`${out.join('\n')}\n`);
  return EXIT.ok;
}
