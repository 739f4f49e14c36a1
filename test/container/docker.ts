/**
 * Plumbing for the container tests: a Docker engine (the user's, or Podman's Docker-compatible
 * service prepared by ../shared/container/engine.sh), the docker CLI, and the README's docker
 * commands, read out of README.md so the tests run exactly what the README tells people to run.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers.ts';

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Engine {
  /** The environment every docker command runs with (DOCKER_HOST set when engine.sh made the engine). */
  env: NodeJS.ProcessEnv;
  /** The engine is Podman (its Docker API), not Docker. */
  podman: boolean;
  /** What answered `docker version`, for diagnostics. */
  server: string;
  /** How long preparing the engine took (0 when one already answered). */
  setupMs: number;
}

/** Runs a command; never rejects on a non-zero exit (the caller checks `code`). */
export function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${options.timeoutMs} ms\n${stdout}${stderr}`));
    }, options.timeoutMs ?? 120_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

const ENGINE_SCRIPT = join(ROOT, '..', 'shared', 'container', 'engine.sh');

async function serverOf(env: NodeJS.ProcessEnv): Promise<{ ok: true; server: string; podman: boolean } | { ok: false; error: string }> {
  const version = await run('docker', ['version', '--format', '{{json .Server}}'], { env, timeoutMs: 30_000 }).catch((error: Error) => ({
    code: -1,
    stdout: '',
    stderr: error.message,
  }));
  if (version.code !== 0) return { ok: false, error: (version.stderr || version.stdout).trim() };
  const server = JSON.parse(version.stdout) as { Version?: string; Components?: Array<{ Name: string; Version: string }> };
  const podman = server.Components?.some((component) => /podman/i.test(component.Name)) ?? false;
  return { ok: true, server: `${podman ? 'Podman' : 'Docker'} ${server.Version ?? '?'}`, podman };
}

/**
 * The Docker engine to test against: the one `docker version` reaches with the current
 * environment; failing that, the one ../shared/container/engine.sh prepares (it prints
 * `export DOCKER_HOST=...` with --env); failing that, an error saying what to start.
 */
export async function prepareEngine(): Promise<Engine> {
  const env = { ...process.env };
  const first = await serverOf(env);
  if (first.ok) return { env, podman: first.podman, server: first.server, setupMs: 0 };
  if (!existsSync(ENGINE_SCRIPT)) {
    throw new Error(`no Docker engine answers (docker version: ${first.error}); start Docker (or set DOCKER_HOST) and run again`);
  }
  const started = Date.now();
  // From /: the engine's service keeps the working directory it starts in, and must not start in one that may go away.
  const setup = await run('bash', [ENGINE_SCRIPT, '--env'], { env, cwd: '/', timeoutMs: 10 * 60_000 });
  if (setup.code !== 0) throw new Error(`${ENGINE_SCRIPT} failed (exit ${setup.code}):\n${setup.stderr}${setup.stdout}`);
  const host = setup.stdout.match(/DOCKER_HOST=(\S+)/)?.[1];
  if (!host) throw new Error(`${ENGINE_SCRIPT} --env printed no DOCKER_HOST:\n${setup.stdout}`);
  env.DOCKER_HOST = host;
  const second = await serverOf(env);
  if (!second.ok) throw new Error(`${ENGINE_SCRIPT} ran, but docker version still fails with DOCKER_HOST=${host}: ${second.error}`);
  return { env, podman: second.podman, server: second.server, setupMs: Date.now() - started };
}

/** `docker ...args` against the engine; rejects, with the output, when it exits non-zero. */
export async function docker(engine: Engine, args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<Result> {
  const result = await run('docker', args, { ...options, env: engine.env });
  if (result.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`);
  return result;
}

/** The image name, container name and published port as the README writes them. */
export const README_IMAGE = 'mcp-switchboard';
export const README_CONTAINER = 'switchboard';
export const README_PORT = '8490:8490';

export interface ReadmeCommands {
  /** `docker build -t mcp-switchboard .` */
  build: string[];
  /** The plain `docker run` (the baked-in plugins only). */
  run: string[];
  /** The `docker run` that mounts a plugin folder at /plugins. */
  runPlugins: string[];
  /** The `docker run` that mounts a config file named by SWITCHBOARD_CONFIG. */
  runConfig: string[];
}

/**
 * Every `docker build` / `docker run` (of the mcp-switchboard image) line in README.md's ```sh blocks (a line ending in `\`
 * continues on the next), split into words. The README's commands use no quotes, so splitting
 * on white space is exact; a quote makes this throw rather than guess.
 */
export function readmeDockerCommands(readme = readFileSync(join(ROOT, 'README.md'), 'utf8')): ReadmeCommands {
  const commands: string[][] = [];
  for (const block of readme.matchAll(/^```(?:sh|bash|shell)\n([\s\S]*?)^```/gm)) {
    const lines = block[1]!.replace(/\\\n\s*/g, ' ').split('\n');
    for (const line of lines) {
      const text = line.replace(/\s+#.*$/, '').trim();
      if (!/^docker (build|run) /.test(text)) continue;
      if (/["'`$]/.test(text)) throw new Error(`README command uses quotes or variables, which the container test does not interpret: ${text}`);
      commands.push(text.split(/\s+/));
    }
  }
  const pick = (what: string, test: (words: string[]) => boolean): string[] => {
    const found = commands.filter(test);
    const distinct = [...new Set(found.map((words) => words.join(' ')))];
    if (distinct.length !== 1) {
      throw new Error(`README.md should have exactly one ${what} command in a sh block, found ${distinct.length}: ${distinct.join(' | ') || '(none)'}`);
    }
    return distinct[0]!.split(' ');
  };
  // Runs of this project's image; other images (a tracing collector, say) are the README's business.
  const isRun = (words: string[]) => words[1] === 'run' && words.at(-1) === 'mcp-switchboard';
  const mountsPlugins = (words: string[]) => words.some((word) => /:\/plugins(?::ro)?$/.test(word));
  const namesConfig = (words: string[]) => words.some((word) => word.startsWith('SWITCHBOARD_CONFIG='));
  return {
    build: pick('`docker build`', (words) => words[1] === 'build'),
    run: pick('plain `docker run` (no -v, no -e)', (words) => isRun(words) && !words.includes('-v') && !words.includes('-e')),
    runPlugins: pick('`docker run ... -v ...:/plugins:ro`', (words) => isRun(words) && mountsPlugins(words)),
    runConfig: pick('`docker run ... -e SWITCHBOARD_CONFIG=...`', (words) => isRun(words) && namesConfig(words)),
  };
}

/**
 * A README command adapted to run beside anything else on the machine, and nothing more: the
 * image name becomes the test's unique tag, the container name a unique name, and the
 * published host port (8490) a free one. Everything else is the README's, word for word.
 * Throws when a README word it expects to replace is not there.
 */
export function adapt(words: string[], substitute: { image: string; container?: string; port?: number }): string[] {
  const out = [...words];
  const replace = (what: string, index: number, value: string) => {
    if (index < 0) throw new Error(`README command has no ${what}: ${words.join(' ')}`);
    out[index] = value;
  };
  if (words[1] === 'build') {
    replace(`-t ${README_IMAGE}`, words.findIndex((word, i) => word === README_IMAGE && words[i - 1] === '-t'), substitute.image);
    return out;
  }
  replace(`image ${README_IMAGE}`, words.findIndex((word, i) => word === README_IMAGE && words[i - 1] !== '-t'), substitute.image);
  replace(`--name ${README_CONTAINER}`, words.findIndex((word, i) => word === README_CONTAINER && words[i - 1] === '--name'), substitute.container!);
  replace(`-p ${README_PORT}`, words.findIndex((word, i) => word === README_PORT && words[i - 1] === '-p'), `${substitute.port}:8490`);
  return out;
}
