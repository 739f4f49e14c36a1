/**
 * The entry file, and the only one that touches `process`: arguments, environment, signals
 * and exit codes. `npm start` and the `switchboard` command both come here.
 */
import { parseArgs } from 'node:util';
import { EXIT, commandNamed, commandsHelp, runCommand, withHint } from './cli/commands.ts';
import { VERSION } from './version.ts';
import { SwitchboardError } from './errors.ts';

const SERVE_USAGE = `switchboard [serve] [--port N] [--host H] [--plugins DIR]... [--mcp-servers FILE]... [--config FILE]
                     [--log-level L] [--log-format json|pretty]`;

const USAGE = `switchboard ${VERSION}: one MCP endpoint for all your MCP servers

usage:
  ${SERVE_USAGE}
      Serves every plugin folder at http://HOST:PORT/mcp (default 0.0.0.0:8490).
${commandsHelp()}
  switchboard --version | --help
  switchboard COMMAND --help says more about each command.
`;

const SERVE_HELP = `usage: ${SERVE_USAGE}

Serves every plugin folder at http://HOST:PORT/mcp (default 0.0.0.0:8490). Every flag has a
config file key and an environment variable too (see the README's Configuration section).

options:
  -p, --port N            HTTP port (0: any free port; default 8490).
  --host H                Interface to listen on (default 0.0.0.0).
  --plugins DIR           Another plugin directory (repeatable), beside the config's (default ./plugins).
  --mcp-servers FILE      Mount the mcpServers of another client's config file (repeatable).
  -c, --config FILE       The config file (default: found in the working directory).
  --log-level L           fatal, error, warn, info, debug, trace or silent.
  --log-format F          json or pretty (default: pretty on a terminal, json otherwise).
  -h, --help              This help.
`;

const SERVE_OPTIONS = {
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  plugins: { type: 'string', multiple: true },
  'mcp-servers': { type: 'string', multiple: true },
  config: { type: 'string', short: 'c' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: SERVE_OPTIONS });
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return;
  }
  // The proxy is loaded only to serve: the other commands start faster without it.
  const [{ loadConfig }, { createLogger }, { createSwitchboard }, { Secrets }] = await Promise.all([
    import('./config/config.ts'),
    import('./log.ts'),
    import('./switchboard.ts'),
    import('./redact.ts'),
  ]);
  const config = await loadConfig({
    flags: { port: values.port, host: values.host, plugins: values.plugins, mcpServers: values['mcp-servers'], config: values.config, logLevel: values['log-level'], logFormat: values['log-format'] },
    env: process.env,
    cwd: process.cwd(),
  });
  const secrets = new Secrets();
  const log = createLogger({ level: config.logLevel, format: config.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json'), secrets, batched: true });
  // Access lines are written in batches (core/log.ts): what is waiting goes out before the process ends.
  process.on('exit', () => log.flush());
  if (config.configFile) log.info({ file: config.configFile }, 'configuration read');
  const switchboard = await createSwitchboard({ ...config, cwd: process.cwd(), env: process.env, log, secrets });
  try {
    await switchboard.listen();
  } catch (error) {
    await switchboard.close();
    throw error;
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    log.info(`${signal}: shutting down`);
    switchboard.close().then(
      () => process.exit(0),
      (error) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function main(argv: string[]): Promise<number | undefined> {
  const [first, ...rest] = argv;
  const command = first === undefined ? undefined : commandNamed(first);
  if (command) return runCommand(command, rest, { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });
  switch (first) {
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return EXIT.ok;
    case '--version':
    case '-v':
      process.stdout.write(`${VERSION}\n`);
      return EXIT.ok;
    case undefined:
      await serve([]);
      return undefined;
    case 'serve':
      await serve(rest);
      return undefined;
    default:
      if (first.startsWith('-')) {
        await serve(argv);
        return undefined;
      }
      process.stderr.write(`switchboard: unknown command "${first}"\n\n${USAGE}`);
      return EXIT.usage;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code === undefined) return;
    process.exitCode = code;
    // `check` ran plugin code, which may leave timers or sockets open; its report is all that is left to do.
    if (process.argv[2] === 'check') process.stdout.write('', () => process.exit(code));
  },
  (error: unknown) => {
    if (error instanceof SwitchboardError) process.stderr.write(`switchboard: ${error.message}\n`);
    else if (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`switchboard serve: ${withHint(error.message, Object.keys(SERVE_OPTIONS))}\nusage: ${SERVE_USAGE}\n(switchboard serve --help says more)\n`);
      process.exitCode = EXIT.usage;
      return;
    } else process.stderr.write(`switchboard: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = EXIT.failed;
  },
);
