/** `switchboard plugins [URL]`: the plugins of a running proxy, from its /readyz. */
import { defineCommand } from './command.ts';
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, DEFAULT_URL, defaultUrl, describeFailure, endpointOf, printJson, requestHeaders } from './client.ts';
import { EXIT, UsageError, styleFor, table } from './io.ts';

interface PluginRow {
  prefix?: string;
  source: string;
  kind?: string;
  state: string;
  required: boolean;
  since: string;
  error?: string;
  counts?: { tools: number; prompts: number; resources: number; resourceTemplates: number };
  processes?: number;
}

const STATE_COLOURS = { ready: 'green', degraded: 'yellow', loading: 'yellow', disabled: 'gray', unavailable: 'red', failed: 'red' } as const;

export const pluginsCommand = defineCommand({
  name: 'plugins',
  usage: 'switchboard plugins [URL] [--json] [--header "Name: value"]... [--token TOKEN]',
  summary: `The plugins of a running proxy (default ${DEFAULT_URL}, or the port in SWITCHBOARD_PORT): kind, state, counts.`,
  details: `Reads the proxy's GET /readyz. Exits 1 when a required plugin is not ready, or the proxy cannot be read.

options:
${CLIENT_OPTIONS_HELP}`,
  options: CLIENT_OPTIONS,
  async run({ values, positionals }, io) {
    if (positionals.length > 1) throw new UsageError(`one URL at most, got ${positionals.length}`);
    const target = positionals[0] ?? defaultUrl(io.env);
    const readyz = new URL('/readyz', endpointOf(target));
    const headers = requestHeaders(values, io);
    let body: { ready: boolean; plugins: PluginRow[]; details?: string };
    try {
      const response = await fetch(readyz, { headers });
      body = (await response.json()) as typeof body;
      if (!Array.isArray(body.plugins) && body.details) throw new Error(`${body.details}: pass --token or set SWITCHBOARD_TOKEN`);
      if (!Array.isArray(body.plugins)) throw new Error(`unexpected answer from ${readyz} (HTTP ${response.status}); is it an mcp-switchboard?`);
    } catch (error) {
      io.stderr.write(`switchboard plugins: cannot read ${readyz}: ${describeFailure(error)}\n`);
      return EXIT.failed;
    }
    if (values.json) {
      printJson(io, body);
      return body.ready ? EXIT.ok : EXIT.failed;
    }
    const style = styleFor(io.stdout, io.env);
    const count = (p: PluginRow, key: keyof NonNullable<PluginRow['counts']>) => (p.counts ? String(p.counts[key]) : '-');
    const rows = body.plugins.map((p) => [
      p.prefix === undefined ? '-' : p.prefix === '' ? '(none)' : p.prefix,
      p.kind ?? '-',
      `${p.state}${p.required ? ' (required)' : ''}`,
      count(p, 'tools'),
      count(p, 'prompts'),
      count(p, 'resources'),
      count(p, 'resourceTemplates'),
      p.processes === undefined ? '-' : String(p.processes),
      p.source,
    ]);
    const header = ['PREFIX', 'KIND', 'STATE', 'TOOLS', 'PROMPTS', 'RESOURCES', 'TEMPLATES', 'PROCESSES', 'SOURCE'];
    const out = table(header, rows, style, (cell, column) =>
      column === 0 ? 'cyan' : column === 2 ? STATE_COLOURS[cell.split(' ')[0] as keyof typeof STATE_COLOURS] : undefined,
    );
    for (const p of body.plugins) if (p.error && p.state !== 'ready') out.push(`  ${p.prefix ?? p.source}: ${style.paint('red', p.error)}`);
    out.push(body.ready ? style.paint('green', 'ready') : style.paint('red', 'not ready: a required plugin is not ready'));
    io.stdout.write(`${out.join('\n')}\n`);
    return body.ready ? EXIT.ok : EXIT.failed;
  },
});
