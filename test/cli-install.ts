/**
 * The `switchboard` command as a user gets it: the project packed (`npm pack`) and installed
 * into a temporary prefix, run from `PREFIX/node_modules/.bin/switchboard` as a separate process.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, startProcess, type RunningProcess } from './helpers.ts';

const exec = promisify(execFile);

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export interface InstalledCli {
  /** The prefix it is installed in (a user's project: its own plugins/ goes here). */
  prefix: string;
  /**
   * Runs `switchboard ...args` (in `prefix` unless `cwd` says otherwise); resolves with exit code and output. Rejects only
   * when it does not exit within `timeoutMs` (default 2 minutes): it hangs.
   */
  run(args: string[], options?: { cwd?: string; env?: Record<string, string>; timeoutMs?: number }): Promise<Result>;
  /** `switchboard serve --port 0` (plus `args`) as a process, once it says it is serving. */
  serve(args: string[], options?: { cwd?: string }): Promise<RunningProcess>;
  remove(): Promise<void>;
}

/**
 * The environment the command runs in: this one, without what would decide colours for it
 * (a test asks for them with FORCE_COLOR or NO_COLOR itself).
 */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !['FORCE_COLOR', 'NO_COLOR', 'NODE_TEST_CONTEXT', 'SWITCHBOARD_TOKEN', 'SWITCHBOARD_CONFIG'].includes(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

/** Packs this checkout and installs the package into a fresh prefix (dependencies from the npm cache or registry). */
export async function installCli(): Promise<InstalledCli> {
  const prefix = await mkdtemp(join(tmpdir(), 'switchboard-cli-'));
  await exec('npm', ['pack', ROOT, '--pack-destination', prefix, '--silent'], { cwd: prefix });
  const tarball = (await readdir(prefix)).find((file) => file.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack ${ROOT} made no tarball in ${prefix}`);
  await exec('npm', ['install', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(prefix, tarball)], { cwd: prefix, timeout: 300_000 });
  const bin = join(prefix, 'node_modules', '.bin', 'switchboard');
  return {
    prefix,
    async run(args, options = {}) {
      try {
        const { stdout, stderr } = await exec(bin, args, { cwd: options.cwd ?? prefix, env: cleanEnv(options.env), timeout: options.timeoutMs ?? 120_000 });
        return { code: 0, stdout, stderr };
      } catch (error) {
        const e = error as { code: number; stdout: string; stderr: string };
        if (typeof e.code !== 'number') throw new Error(`switchboard ${args.join(' ')} did not exit (${String(e.code ?? (error as { signal?: string }).signal)})`, { cause: error });
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    },
    serve(args, options = {}) {
      return startProcess(bin, ['serve', '--port', '0', '--host', '127.0.0.1', '--log-format', 'json', ...args], {
        cwd: options.cwd ?? prefix,
        env: cleanEnv(),
        ready: /serving \d+ plugin\(s\) at (http:[^"\s]+)/,
      });
    },
    remove: () => rm(prefix, { recursive: true, force: true }),
  };
}
