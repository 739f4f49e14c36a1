/** `switchboard read URL URI`: reads a resource and prints its contents. */
import { ReadResourceResultSchema, type ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import { defineCommand } from './command.ts';
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, printJson, withClient } from './client.ts';
import { asLines, renderResource } from './render.ts';
import { EXIT, UsageError, styleFor } from './io.ts';

export const readCommand = defineCommand({
  name: 'read',
  usage: 'switchboard read URL URI [--json] [--header "Name: value"]... [--token TOKEN]',
  summary: 'Reads a resource (or a URI of a resource template) and prints its contents.',
  details: `Text is printed as it is; binary contents as their type and size (--json has the base64).
Exits 1 when the server cannot read it (an unknown URI, say).

options:
${CLIENT_OPTIONS_HELP}`,
  options: CLIENT_OPTIONS,
  async run({ values, positionals }, io) {
    const [url, uri, ...extra] = positionals;
    if (!url) throw new UsageError('missing URL (e.g. http://localhost:8490/mcp)');
    if (!uri) throw new UsageError('missing URI (`switchboard list URL` shows the resources)');
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
    return withClient('read', url, values, io, async (client) => {
      const result = (await client.request({ method: 'resources/read', params: { uri } }, ReadResourceResultSchema)) as ReadResourceResult;
      if (values.json) {
        printJson(io, result);
      } else {
        const style = styleFor(io.stdout, io.env);
        io.stdout.write(asLines(renderResource(result, (text) => style.paint('bold', text))));
      }
      return EXIT.ok;
    });
  },
});
