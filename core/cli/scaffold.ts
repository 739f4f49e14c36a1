/**
 * The files of a new plugin folder (`switchboard new plugin`): an in-process plugin with a tool
 * and a test, or a no-code manifest for a remote or command backend. The manifests written are
 * checked with the loader's own schema first, so what is written is what the proxy accepts.
 */
import { checkDataManifest } from '../plugins/manifest.ts';
import { UsageError } from './io.ts';

export type Scaffold = Record<string, string>;

/** An in-process plugin like plugins/example: one tool with an argument, and a node:test test that calls it in memory. */
export function inProcessPlugin(prefix: string, description: string): Scaffold {
  const index = `/**
 * The "${prefix}" plugin: an in-process MCP server, mounted under the prefix "${prefix}".
 * Clients see its tool as \`${prefix}_hello\`. Add tools, prompts and resources to the server below.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { definePlugin } from 'mcp-switchboard';

export default definePlugin({
  prefix: ${quote(prefix)},
  description: ${quote(description)},
  // Called once per client session: state kept in here is per session.
  server: ({ log }) => {
    const server = new McpServer({ name: ${quote(prefix)}, version: '0.1.0' });
    server.registerTool(
      'hello',
      { description: 'Says hello to someone.', inputSchema: { name: z.string().describe('Who to greet') } },
      async ({ name }) => {
        log.debug({ name }, 'hello');
        return { content: [{ type: 'text', text: \`Hello, \${name}!\` }] };
      },
    );
    return server;
  },
});
`;
  const test = `/**
 * The "${prefix}" plugin's tool, called through an in-memory MCP client, as the proxy calls it.
 * Run: node --import tsx --test index.test.ts (in this folder), or npm test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { createLogger } from 'mcp-switchboard';
import plugin from './index.ts';

test('the hello tool greets by name', async () => {
  assert.ok(plugin.server, 'an in-process plugin has a server factory');
  const server = await plugin.server({ sessionId: 'test', log: createLogger({ level: 'silent' }) });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: '${prefix}-test', version: '1.0.0' });
  await client.connect(clientSide);
  try {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((tool) => tool.name), ['hello']);
    const result = await client.callTool({ name: 'hello', arguments: { name: 'Ada' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'Hello, Ada!' }]);
  } finally {
    await client.close();
    await server.close();
  }
});
`;
  // "type": "module" keeps tsx from compiling the plugin to CommonJS when the folder is tested on its own.
  const pkg = {
    name: `switchboard-plugin-${prefix.toLowerCase()}`,
    version: '0.1.0',
    private: true,
    type: 'module',
    description,
    scripts: { test: 'node --import tsx --test index.test.ts' },
  };
  return { 'index.ts': index, 'index.test.ts': test, 'package.json': `${JSON.stringify(pkg, null, 2)}\n` };
}

/** A remote plugin: `plugin.json` with the URL of an MCP endpoint. */
export function remotePlugin(prefix: string, description: string, url: string): Scaffold {
  return { 'plugin.json': dataManifest({ prefix, description, remote: { url } }, '--remote') };
}

/** A command plugin: `plugin.json` with the program (and its arguments) the proxy starts. */
export function commandPlugin(prefix: string, description: string, argv: string[]): Scaffold {
  const [command, ...args] = argv;
  return { 'plugin.json': dataManifest({ prefix, description, command: { command, ...(args.length && { args }) } }, '--command') };
}

/** `text` as a single-quoted TypeScript string, as the code of this project writes them. */
function quote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

function dataManifest(manifest: Record<string, unknown>, flag: string): string {
  const checked = checkDataManifest(manifest);
  if ('problems' in checked) throw new UsageError(`${flag}: ${checked.problems.join('; ')}`);
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
