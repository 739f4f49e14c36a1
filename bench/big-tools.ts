/**
 * A server with many tools (5,000 by default), for the large-catalogue benchmark: the same
 * generated tools as an in-process plugin (bigPlugin, imported by plugin folders the benchmark
 * writes) and, the same module served by bare-server.ts, as a remote server.
 *
 * Built on the SDK's low-level `Server`, with the tool definitions made once per process and
 * shared by every session's server: what is measured is what the proxy keeps per session, not
 * 5,000 zod schemas registered again for each of 200 sessions. The server pages its own list
 * (1,000 a page), as a server this size would, so the proxy follows cursors upstream too.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, McpError, ErrorCode, type Tool } from '@modelcontextprotocol/sdk/types.js';

const UPSTREAM_PAGE = 1000;

/** `tool_0000` ... with a realistic description and input schema (about 450 bytes of JSON each). */
export function bigTools(count: number): Tool[] {
  const width = String(count - 1).length;
  return Array.from({ length: count }, (_, i) => ({
    name: `tool_${String(i).padStart(width, '0')}`,
    title: `Generated tool ${i}`,
    description: `Tool ${i} of a generated catalogue: looks up records of kind ${i % 97} by id and returns them as text. Used to measure how the proxy holds large lists.`,
    inputSchema: {
      type: 'object',
      properties: {
        id: { type: 'string', description: 'The record id' },
        limit: { type: 'integer', minimum: 1, maximum: 100, description: 'Most records to return' },
      },
      required: ['id'],
    },
  }));
}

/** A server for one session, answering tools/list (paged) and tools/call from the shared `tools`. */
export function bigServer(tools: readonly Tool[]): Server {
  const names = new Set(tools.map((tool) => tool.name));
  const server = new Server({ name: 'big', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async (request) => {
    const offset = request.params?.cursor ? Number(request.params.cursor) : 0;
    const end = offset + UPSTREAM_PAGE;
    return { tools: tools.slice(offset, end), ...(end < tools.length && { nextCursor: String(end) }) };
  });
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    if (!names.has(request.params.name)) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`);
    return { content: [{ type: 'text', text: `${request.params.name}: ${JSON.stringify(request.params.arguments ?? {})}` }] };
  });
  return server;
}

/** The in-process plugin manifest (a plain object: definePlugin would only add types). */
export function bigPlugin(count: number, prefix = 'big') {
  const tools = bigTools(count);
  return { prefix, name: `${count} generated tools`, server: () => bigServer(tools) };
}
