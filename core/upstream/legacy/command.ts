/**
 * Command plugins: a stdio MCP server as a child process of its own for each connection, at most
 * `maxProcesses` at once. When the limit is reached, the least recently used process that is not
 * serving a request is ended to make room (its session gets a new one when it needs it again);
 * when every process is busy, the error says so, naming the limit.
 */
import { basename, resolve } from 'node:path';
import type { Plugin } from '../../plugins/plugin.ts';
import { SwitchboardError, messageOf } from '../../errors.ts';
import { ChildProcessTransport } from './child-process.ts';
import { newClient, once, type ConnectOptions, type Connection } from './connection.ts';

export async function connectCommand(plugin: Plugin, options: ConnectOptions): Promise<Connection> {
  const spec = plugin.manifest.command!;
  const slot = await plugin.processSlots.claim();
  if (!slot) {
    throw new SwitchboardError(
      'SB_PROCESS_LIMIT',
      `${plugin.label}: all ${plugin.maxProcesses} of its processes (maxProcesses) are serving other sessions' requests; try again shortly, or raise maxProcesses`,
      { culprit: plugin.source.display },
    );
  }
  const transport = new ChildProcessTransport({
    command: spec.command,
    args: spec.args ?? [],
    env: withNpxAnswer(spec.command, spec.env),
    cwd: resolve(plugin.source.dir, spec.cwd ?? '.'),
    log: plugin.log,
    onSpawn: (pid) => plugin.processes.add(pid),
    onExit: (pid) => {
      plugin.processes.delete(pid);
      slot.release();
    },
  });
  const client = newClient(plugin, options);
  try {
    await client.connect(transport, { timeout: plugin.timeoutMs, signal: options.signal });
  } catch (error) {
    await transport.close().catch(() => {});
    slot.release();
    // Each line scrubbed whole, then cut: a secret cut in two would no longer be recognised.
    const tail = transport.stderrTail.map((line) => shorten(plugin.scrub(line), STDERR_QUOTE_CHARS));
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? `command not found: ${spec.command}`
        : `${messageOf(error)}${tail.length ? `; its stderr ended with: ${tail.map((line) => JSON.stringify(line)).join(', ')}` : ''}`;
    throw new SwitchboardError('SB_BACKEND_UNAVAILABLE', plugin.scrub(`${plugin.label}: cannot start ${spec.command}: ${reason}`), {
      cause: error,
      culprit: plugin.source.display,
    });
  }
  return {
    client,
    close: once(async () => {
      await client.close().catch(() => {});
      await transport.close();
    }),
  };
}

/** How much of each stderr line the error quotes. */
const STDERR_QUOTE_CHARS = 300;

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

/**
 * `npx` asks before it installs a missing package, and a child's stdin is the MCP stream, never a
 * terminal: without `-y` it gives up ("npx canceled due to missing packages and no YES option").
 * Listing the command is the answer, so it is given, as `npx -y` does; the plugin's own `env`
 * can still say `"npm_config_yes": "false"`.
 */
export function withNpxAnswer(command: string, env: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!/^npx(?:\.cmd)?$/i.test(basename(command))) return env;
  return { npm_config_yes: 'true', ...env };
}

