/** `switchboard get URL PROMPT [key=value]...`: gets a prompt and prints its messages. */
import { GetPromptResultSchema, type GetPromptResult, type Prompt } from '@modelcontextprotocol/sdk/types.js';
import { defineCommand } from './command.ts';
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, all, printJson, withClient } from './client.ts';
import { buildPromptArguments } from './arguments.ts';
import { nearest } from './call.ts';
import { asLines, renderPrompt } from './render.ts';
import { EXIT, UsageError, styleFor } from './io.ts';

export const getCommand = defineCommand({
  name: 'get',
  usage: 'switchboard get URL PROMPT [key=value]... [--args JSON] [--json] [--header "Name: value"]... [--token TOKEN]',
  summary: 'Gets a prompt with its arguments and prints its messages.',
  details: `Prompt arguments are strings; unknown ones and missing required ones are usage errors (exit 2).
Each message is printed under its role ([user], [assistant]).

options:
  --args JSON             All arguments as one JSON object of strings.
${CLIENT_OPTIONS_HELP}`,
  options: { ...CLIENT_OPTIONS, args: { type: 'string' } },
  async run({ values, positionals }, io) {
    const [url, name, ...pairs] = positionals;
    if (!url) throw new UsageError('missing URL (e.g. http://localhost:8490/mcp)');
    if (!name) throw new UsageError('missing PROMPT (`switchboard list URL` shows the prompts)');
    return withClient('get', url, values, io, async (client) => {
      const prompts = client.getServerCapabilities()?.prompts ? await all<Prompt>((cursor) => client.listPrompts({ cursor }), 'prompts') : [];
      const prompt = prompts.find((p) => p.name === name);
      if (!prompt) throw new UsageError(`no prompt named "${name}"${nearest(name, prompts.map((p) => p.name))}; \`switchboard list\` shows the prompts`);
      const args = buildPromptArguments(prompt, pairs, values.args);
      const result = (await client.request({ method: 'prompts/get', params: { name, arguments: args } }, GetPromptResultSchema)) as GetPromptResult;
      if (values.json) {
        printJson(io, result);
      } else {
        const style = styleFor(io.stdout, io.env);
        io.stdout.write(asLines(renderPrompt(result, (role) => style.paint('bold', role))));
      }
      return EXIT.ok;
    });
  },
});
