/**
 * How merged lists reach clients: in one page by default (as a bare SDK server sends them; many
 * clients never ask for a second page), or `pageSize` items at a time with `nextCursor` when the
 * config asks for paging.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ListToolsResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { ROOT, connect, startProxy } from './helpers.ts';

const TOOLS = 600;
let dir: string;

before(async () => {
  // Inside the checkout, so the plugin's import of the SDK resolves from the project's node_modules.
  await mkdir(join(ROOT, '.tmp'), { recursive: true });
  dir = await mkdtemp(join(ROOT, '.tmp', 'paging-'));
  await mkdir(join(dir, 'many'));
  await writeFile(
    join(dir, 'many', 'index.ts'),
    `import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
export default {
  prefix: 'many',
  server: () => {
    const server = new McpServer({ name: 'many', version: '1.0.0' });
    for (let i = 0; i < ${TOOLS}; i++) server.registerTool('tool' + i, { description: 'Tool ' + i }, async () => ({ content: [] }));
    return server;
  },
};
`,
  );
});
after(() => rm(dir, { recursive: true, force: true }));

test(`by default a client gets every tool in one tools/list answer (${TOOLS + 1} tools, no nextCursor)`, async () => {
  const proxy = await startProxy({ pluginDirs: [join(ROOT, 'plugins'), dir] });
  const { client, close } = await connect(proxy.url);
  try {
    const answer = await client.request({ method: 'tools/list', params: {} }, ListToolsResultSchema);
    assert.equal(answer.tools.length, TOOLS + 1, `a client that reads one page sees ${answer.tools.length} of ${TOOLS + 1} tools`);
    assert.equal(answer.nextCursor, undefined);
  } finally {
    await close();
    await proxy.close();
  }
});

test('with pageSize set, lists come in pages of that size, and following nextCursor gives every tool once', async () => {
  const proxy = await startProxy({ pluginDirs: [join(ROOT, 'plugins'), dir], pageSize: 250 });
  const { client, close } = await connect(proxy.url);
  try {
    const names: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    do {
      const answer = await client.request({ method: 'tools/list', params: cursor ? { cursor } : {} }, ListToolsResultSchema);
      sizes.push(answer.tools.length);
      names.push(...answer.tools.map((t) => t.name));
      cursor = answer.nextCursor;
    } while (cursor);
    assert.deepEqual(sizes, [250, 250, TOOLS + 1 - 500]);
    assert.equal(new Set(names).size, TOOLS + 1, 'every tool once');
  } finally {
    await close();
    await proxy.close();
  }
});
