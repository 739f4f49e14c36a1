/**
 * The registry: the mounted plugins, keyed by prefix. It refuses a duplicate prefix and a
 * prefix that would make names ambiguous, and answers "which plugin owns this name or URI".
 */
import type { Plugin } from './plugin.ts';
import { uriPrefixOf } from '../catalog/namespace.ts';
import { SwitchboardError } from '../errors.ts';

export class PluginRegistry {
  readonly #plugins = new Map<string, Plugin>();

  /** Mounted plugins in mount order. */
  list(): Plugin[] {
    return [...this.#plugins.values()];
  }

  get(prefix: string): Plugin | undefined {
    return this.#plugins.get(prefix);
  }

  get size(): number {
    return this.#plugins.size;
  }

  /**
   * Mounts `plugin`. Throws (and mounts nothing) when its prefix is taken, or when one prefix
   * followed by `_` starts the other (`a` and `a_b` would both claim `a_b_tool`).
   */
  add(plugin: Plugin): void {
    const refusal = this.refusal(plugin);
    if (refusal) throw refusal;
    this.#plugins.set(plugin.prefix, plugin);
  }

  /**
   * Puts `next` where `previous` was mounted (a reload), with the same checks as add(), minus
   * the clash with `previous` itself. Throws, changing nothing, if `next` may not be mounted.
   */
  replace(previous: Plugin, next: Plugin): void {
    const refusal = this.refusal(next, previous);
    if (refusal) throw refusal;
    this.remove(previous);
    this.#plugins.set(next.prefix, next);
  }

  remove(plugin: Plugin): void {
    if (this.#plugins.get(plugin.prefix) === plugin) this.#plugins.delete(plugin.prefix);
  }

  /** The mounted plugins that keep `plugin` from being mounted (the same prefix, or an ambiguous one). */
  conflicts(plugin: Plugin, except?: Plugin): Plugin[] {
    const prefix = plugin.prefix;
    return [...this.#plugins.values()].filter(
      (other) =>
        other !== except &&
        other !== plugin &&
        (other.prefix === prefix ||
          (prefix !== '' && other.prefix !== '' && (`${prefix}_`.startsWith(`${other.prefix}_`) || `${other.prefix}_`.startsWith(`${prefix}_`)))),
    );
  }

  /** Why `plugin` may not be mounted (in place of `except`), or undefined if it may. */
  refusal(plugin: Plugin, except?: Plugin): SwitchboardError | undefined {
    const [other] = this.conflicts(plugin, except);
    if (!other) return undefined;
    const prefix = plugin.prefix;
    const outcome = except ? 'the previous version stays mounted' : `${plugin.source.display} is not mounted`;
    if (other.prefix === prefix) {
      const what = prefix === '' ? 'mounts without a prefix' : `${except ? 'now uses' : 'uses'} prefix "${prefix}"`;
      return new SwitchboardError(
        'SB_PLUGIN_DUPLICATE_PREFIX',
        `${plugin.source.description} ${what}, which ${other.source.description} already ${prefix === '' ? 'does' : 'uses'}; ${outcome}`,
        { culprit: plugin.source.display },
      );
    }
    return new SwitchboardError(
      'SB_PLUGIN_PREFIX_OVERLAP',
      `${plugin.source.description} uses prefix "${prefix}", which is ambiguous with prefix "${other.prefix}" of ${other.source.description} (a name like "${prefix}_x" could belong to either); ${outcome}`,
      { culprit: plugin.source.display },
    );
  }

  /**
   * The plugins that may own a client-side tool or prompt name, most specific first: the plugin
   * whose prefix starts the name, then the plugin mounted without a prefix.
   */
  candidatesForName(name: string): Plugin[] {
    const found: Plugin[] = [];
    for (const plugin of this.#plugins.values()) {
      if (plugin.prefix !== '' && name.startsWith(`${plugin.prefix}_`)) found.push(plugin);
    }
    const bare = this.#plugins.get('');
    if (bare) found.push(bare);
    return found;
  }

  /** The plugins that may own a client-side URI, most specific first (as for names). */
  candidatesForUri(uri: string): Plugin[] {
    const found: Plugin[] = [];
    const prefix = uriPrefixOf(uri);
    const owner = prefix === undefined ? undefined : this.#plugins.get(prefix);
    if (owner && owner.prefix !== '') found.push(owner);
    const bare = this.#plugins.get('');
    if (bare) found.push(bare);
    return found;
  }
}
