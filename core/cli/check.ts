/**
 * `switchboard check [DIR...]`: validates plugin folders and the config file offline and prints
 * a report (check-plugins.ts does the checking, with the proxy's own code and messages).
 */
import { resolve } from 'node:path';
import { defineCommand } from './command.ts';
import { printJson } from './client.ts';
import { EXIT, styleFor, type CliIO } from './io.ts';

export const checkCommand = defineCommand({
  name: 'check',
  usage: 'switchboard check [DIR...] [--config FILE] [--json]',
  summary: 'Validates plugin folders and the config file offline, with the messages the proxy gives.',
  details: `Each DIR is a plugin folder (it has an index.ts, plugin.json, ...) or a directory of them.
Without DIR: the config's plugin directories (default ./plugins) and its mcpServers entries.

Checked: the config file (found as \`serve\` finds it, or --config FILE); each manifest's fields
and prefix; duplicate and ambiguous prefixes; that an in-process plugin's code imports and its
factory returns an MCP server (its code runs, as it would in the proxy). Nothing is contacted:
remote plugins are not connected to, command plugins are not started.

Exits 0 when everything is fine, 1 on any problem (each printed with the folder, entry or config
key at fault), 2 on a usage mistake. Fit for a plugin repository's CI.

options:
  -c, --config FILE       The config file to check (default: the one \`serve\` would read).
  --json                  Print the report as JSON.
  -h, --help              This help.`,
  options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } },
  async run({ values, positionals }, io: CliIO) {
    // The proxy's loader is loaded only for this command.
    const { checkPlugins } = await import('./check-plugins.ts');
    const report = await checkPlugins(positionals, { configFile: values.config, cwd: io.cwd ?? resolve('.'), env: io.env ?? {} });
    if (values.json) {
      printJson(io, report);
      return report.ok ? EXIT.ok : EXIT.failed;
    }
    const style = styleFor(io.stdout, io.env);
    const ok = style.paint('green', 'ok     ');
    const error = style.paint('red', 'error  ');
    const warning = style.paint('yellow', 'warning');
    const out: string[] = [];
    if (report.config.problem) out.push(`${error}  ${report.config.problem.message}`);
    else out.push(`${ok}  ${report.config.file ? `config file ${report.config.file}` : 'no config file (defaults)'}`);
    for (const plugin of report.plugins) {
      if (plugin.problem) out.push(`${error}  ${plugin.problem.message}`);
      else {
        const what = `${plugin.kind}, prefix ${plugin.prefix === '' ? '(none)' : `"${plugin.prefix}"`}`;
        out.push(`${ok}  ${plugin.source}: ${what}${plugin.disabled ? style.paint('dim', ' (disabled by the config: not mounted)') : ''}`);
      }
    }
    for (const text of report.warnings) out.push(`${warning}  ${text}`);
    const failed = report.plugins.filter((p) => p.problem).length + (report.config.problem ? 1 : 0);
    const count = report.plugins.length;
    const summary = `${count} plugin${count === 1 ? '' : 's'} checked, ${failed === 0 ? 'no problems' : `${failed} problem${failed === 1 ? '' : 's'}`}`;
    out.push(style.paint(failed ? 'red' : 'green', summary));
    io.stdout.write(`${out.join('\n')}\n`);
    return report.ok ? EXIT.ok : EXIT.failed;
  },
});
