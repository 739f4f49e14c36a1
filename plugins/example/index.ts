/**
 * The example plugin: an in-process MCP server with one tool, mounted under `example_`.
 * Clients see `example_hello_world`.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { definePlugin } from 'mcp-switchboard';

export default definePlugin({
  prefix: 'example',
  name: 'Example',
  description: 'The example MCP server that ships with mcp-switchboard.',
  server: () => {
    const server = new McpServer({ name: 'example', version: '1.0.0' });
    server.registerTool(
      'hello_world',
      { title: 'Hello world', description: 'Says hello from the example MCP server.' },
      async () => ({ content: [{ type: 'text', text: 'Hello from the example MCP server!' }] }),
    );
    return server;
  },
});
