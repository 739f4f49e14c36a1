/** `switchboard call URL TOOL [key=value]...`: calls a tool and prints what it returned. */
import { CallToolResultSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { defineCommand } from './command.ts';
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, all, printJson, withClient } from './client.ts';
import { buildArguments } from './arguments.ts';
import { asLines, renderToolResult } from './render.ts';
import { EXIT, UsageError } from './io.ts';

export const callCommand = defineCommand({
  name: 'call',
  usage: 'switchboard call URL TOOL [key=value]... [--args JSON] [--json] [--header "Name: value"]... [--token TOKEN]',
  summary: 'Calls a tool and prints its result.',
  details: `key=value arguments are typed by the tool's input schema: numbers and integers are parsed,
booleans accept true/false/yes/no/1/0, objects and arrays take JSON. --args gives them all as
one JSON object (pairs override it). Exits 1 when the tool reports an error (its text goes to
stderr), 2 for an unknown tool or a bad argument.

options:
  --args JSON             All arguments as one JSON object.
${CLIENT_OPTIONS_HELP}`,
  options: { ...CLIENT_OPTIONS, args: { type: 'string' } },
  async run({ values, positionals }, io) {
    const [url, name, ...pairs] = positionals;
    if (!url) throw new UsageError('missing URL (e.g. http://localhost:8490/mcp)');
    if (!name) throw new UsageError('missing TOOL (`switchboard list URL` shows the tools)');
    return withClient('call', url, values, io, async (client) => {
      const tools = await all<Tool>((cursor) => client.listTools({ cursor }), 'tools');
      const tool = tools.find((t) => t.name === name);
      if (!tool) throw new UsageError(`no tool named "${name}"${nearest(name, tools.map((t) => t.name))}; \`switchboard list\` shows the tools`);
      const args = buildArguments(tool, pairs, values.args);
      // request() instead of callTool(): print exactly what the server sent, without client-side schema checks.
      const result = (await client.request({ method: 'tools/call', params: { name, arguments: args } }, CallToolResultSchema)) as CallToolResult;
      if (values.json) printJson(io, result);
      else (result.isError ? io.stderr : io.stdout).write(asLines(renderToolResult(result)));
      return result.isError ? EXIT.failed : EXIT.ok;
    });
  },
});

/** ` (did you mean "a", "b"?)` for names that contain, or are contained in, `name`; else nothing. */
export function nearest(name: string, names: string[]): string {
  const near = names.filter((n) => n.includes(name) || name.includes(n));
  return near.length ? ` (did you mean ${near.map((n) => `"${n}"`).join(', ')}?)` : '';
}
