/** `switchboard new plugin NAME`: a plugin folder that `check` accepts and the proxy mounts. */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parse as parseShell } from 'shell-quote';
import { defineCommand } from './command.ts';
import { commandPlugin, inProcessPlugin, remotePlugin, type Scaffold } from './scaffold.ts';
import { EXIT, UsageError, styleFor } from './io.ts';
import { PREFIX_PATTERN } from '../plugins/manifest.ts';

export const newCommand = defineCommand({
  name: 'new',
  usage: 'switchboard new plugin NAME [--dir DIR] [--remote URL | --command "CMD ARGS"] [--description TEXT]',
  summary: 'Makes a plugin folder, DIR/NAME (default ./plugins/NAME), that `check` accepts and the proxy mounts.',
  details: `NAME is the plugin's prefix too: 1-32 letters, digits, "_" or "-", starting with a letter or digit.
An existing folder is never overwritten.

By default an in-process plugin: index.ts (an MCP server with one tool, NAME_hello, written
with the SDK), index.test.ts (a node:test test calling the tool through an in-memory client)
and package.json (npm test runs the test).

options:
  --remote URL            A remote plugin instead: plugin.json naming an MCP endpoint (http or https).
  --command "CMD ARGS"    A command plugin instead: plugin.json naming a stdio MCP server to start,
                          e.g. --command "npx -y @modelcontextprotocol/server-everything".
  --dir DIR               Where to make the folder (default: ./plugins).
  --description TEXT      The manifest's description.
  -h, --help              This help.`,
  options: { dir: { type: 'string' }, remote: { type: 'string' }, command: { type: 'string' }, description: { type: 'string' } },
  async run({ values, positionals }, io) {
    const [what, name, ...extra] = positionals;
    if (what !== 'plugin') throw new UsageError(what === undefined ? 'missing what to make: `new plugin NAME`' : `cannot make a "${what}"; \`new plugin NAME\` makes a plugin`);
    if (!name) throw new UsageError('missing NAME (the plugin\'s prefix, e.g. weather)');
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
    if (!PREFIX_PATTERN.test(name)) throw new UsageError(`NAME "${name}" is not a valid prefix: 1-32 letters, digits, "_" or "-", starting with a letter or digit`);
    if (values.remote !== undefined && values.command !== undefined) throw new UsageError('--remote and --command: give one of the two');
    const description = values.description ?? `The ${name} plugin.`;
    const files: Scaffold =
      values.remote !== undefined
        ? remotePlugin(name, description, values.remote)
        : values.command !== undefined
          ? commandPlugin(name, description, commandLine(values.command))
          : inProcessPlugin(name, description);

    const cwd = io.cwd ?? resolve('.');
    const folder = resolve(cwd, values.dir ?? 'plugins', name);
    const shown = relative(cwd, folder).startsWith('..') ? folder : relative(cwd, folder);
    if (await stat(folder).then(() => true, () => false)) {
      io.stderr.write(`switchboard new: ${shown} already exists; nothing written (pick another NAME, or remove it first)\n`);
      return EXIT.failed;
    }
    await mkdir(folder, { recursive: true });
    for (const [file, text] of Object.entries(files)) await writeFile(join(folder, file), text, { flag: 'wx' });

    const style = styleFor(io.stdout, io.env);
    const kind = values.remote !== undefined ? 'remote' : values.command !== undefined ? 'command' : 'in-process';
    const out = [`${style.paint('green', 'created')} ${shown}/ (${kind} plugin, prefix "${name}")`, ...Object.keys(files).map((file) => `  ${shown}/${file}`), '', 'next:'];
    // The next commands in the form this one was run in: through the checkout's npm script, or as the installed command.
    const switchboard = io.env?.npm_lifecycle_event === 'switchboard' ? 'npm run switchboard --' : 'switchboard';
    out.push(`  ${switchboard} check ${shown}`);
    if (kind === 'in-process') out.push(`  node --import tsx --test ${shown}/index.test.ts`);
    out.push(`  ${switchboard} serve${values.dir === undefined ? '' : ` --plugins ${relative(cwd, resolve(cwd, values.dir)) || '.'}`}    (then: ${switchboard} list http://localhost:8490/mcp)`);
    io.stdout.write(`${out.join('\n')}\n`);
    return EXIT.ok;
  },
});

/**
 * `"npx -y pkg /data"` as argv, split as a shell would (quotes kept together), refusing shell
 * operators. `$VAR` and `${VAR}` are kept as `${VAR}`, for the proxy to expand when it loads the manifest.
 */
function commandLine(text: string): string[] {
  const words = parseShell(text, (name) => '${' + name + '}');
  const operator = words.find((word) => typeof word !== 'string');
  if (operator !== undefined) throw new UsageError(`--command "${text}": only a program and its arguments; shell syntax such as ${JSON.stringify(operator)} is not run by a shell`);
  if (words.length === 0) throw new UsageError('--command is empty; give the program to start, e.g. --command "npx -y @modelcontextprotocol/server-everything"');
  return words as string[];
}
