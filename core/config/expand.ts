/**
 * `${VAR}` in configuration, so secrets can stay out of files: the proxy's config file, plugin
 * folders' `plugin.json`/`plugin.yaml`, and the `mcpServers` files of other clients. In every
 * string value (keys stay as they are; numbers, booleans and null are left alone):
 *
 * - `${NAME}`: the variable's value. Unset is an error; set but empty gives "" (as in a shell).
 * - `${NAME:-default}`: the value, or `default` when the variable is unset or empty (POSIX `:-`).
 * - `${env:NAME}`, `${env:NAME:-default}`: the same, spelt as VS Code spells it.
 * - `$${`: a literal `${`. A `$` not followed by `{` is just a `$` (`$NAME` is not expanded).
 *
 * NAME is `[A-Za-z_][A-Za-z0-9_]*`; a default runs to the first `}` and cannot hold `${`. One
 * pass: a value taken from the environment is never expanded again.
 *
 * Pure: the environment is an argument, and what was substituted is returned (with where it
 * went), so callers can scrub those values from logs and errors.
 */

export type Env = Readonly<Record<string, string | undefined>>;

/** Where a value sits in a parsed file: keys and array indexes, outermost first. */
export type KeyPath = ReadonlyArray<string | number>;

export interface Substitution {
  path: KeyPath;
  /** The variable. */
  name: string;
  /** What it gave (from the environment: defaults written in the file are not listed). Never empty. */
  value: string;
}

/** A variable that cannot be expanded, or a malformed `${`. The message names the key path. */
export class ExpansionError extends Error {
  readonly path: KeyPath;
  /** What is wrong, without the key (`environment variable X is not set (...)`). */
  readonly problem: string;

  constructor(path: KeyPath, problem: string) {
    super(path.length ? `key "${path.join('.')}": ${problem}` : problem);
    this.name = 'ExpansionError';
    this.path = path;
    this.problem = problem;
  }
}

const REFERENCE = /^(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;
const FORMS = 'expected ${NAME}, ${NAME:-default} or ${env:NAME}, NAME being letters, digits and _ (not starting with a digit); write $${ for a literal "${"';

/** `text` with its references expanded. Throws an ExpansionError (with no key path) naming the problem. */
export function expandString(text: string, env: Env): { value: string; used: Array<{ name: string; value: string }> } {
  const used: Array<{ name: string; value: string }> = [];
  if (!text.includes('$')) return { value: text, used };
  let out = '';
  let at = 0;
  for (;;) {
    const dollar = text.indexOf('$', at);
    if (dollar === -1) return { value: out + text.slice(at), used };
    out += text.slice(at, dollar);
    if (text.startsWith('$${', dollar)) {
      out += '${';
      at = dollar + 3;
      continue;
    }
    if (text[dollar + 1] !== '{') {
      out += '$';
      at = dollar + 1;
      continue;
    }
    const close = text.indexOf('}', dollar + 2);
    if (close === -1) throw new ExpansionError([], `unterminated "${shorten(text.slice(dollar))}": no closing "}" (${FORMS})`);
    const whole = text.slice(dollar, close + 1);
    const match = REFERENCE.exec(text.slice(dollar + 2, close));
    if (!match) throw new ExpansionError([], `"${shorten(whole)}" is not a variable reference (${FORMS})`);
    const [, name, fallback] = match as unknown as [string, string, string | undefined];
    if (fallback?.includes('${')) throw new ExpansionError([], `"${shorten(whole)}": a default cannot hold another "\${" (it runs to the first "}")`);
    const found = env[name];
    if (fallback !== undefined && !found) {
      out += fallback;
    } else if (found !== undefined) {
      out += found;
      if (found) used.push({ name, value: found });
    } else {
      throw new ExpansionError([], `environment variable ${name} is not set (use \${${name}:-default} for a default)`);
    }
    at = close + 1;
  }
}

/**
 * A copy of `value` with every string in it expanded, through plain objects and arrays, and
 * what was substituted where. `value` itself is not changed. Throws an ExpansionError naming
 * the key path of the first string that cannot be expanded.
 */
export function expandAll<T>(value: T, env: Env): { value: T; substitutions: Substitution[] } {
  const substitutions: Substitution[] = [];
  const walk = (node: unknown, path: Array<string | number>): unknown => {
    if (typeof node === 'string') {
      try {
        const { value: expanded, used } = expandString(node, env);
        for (const { name, value: found } of used) substitutions.push({ path, name, value: found });
        return expanded;
      } catch (error) {
        if (error instanceof ExpansionError) throw new ExpansionError(path, error.problem);
        throw error;
      }
    }
    if (Array.isArray(node)) return node.map((item, index) => walk(item, [...path, index]));
    if (isPlainObject(node)) return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, walk(item, [...path, key])]));
    return node;
  };
  return { value: walk(value, []) as T, substitutions };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Long references are cut in messages (the text comes from the file, so it holds no secret). */
function shorten(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
