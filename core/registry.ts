/**
 * The registry: the mounted plugins, keyed by prefix. It refuses a duplicate prefix and a
 * prefix that would make names ambiguous, and answers "which plugin owns this name or URI".
 */
import type { Plugin } from './plugin.ts';
import { uriPrefixOf } from './namespace.ts';
import { SwitchboardError } from './errors.ts';

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
    const prefix = plugin.prefix;
    const taken = this.#plugins.get(prefix);
    if (taken) {
      const what = prefix === '' ? 'mounts without a prefix' : `uses prefix "${prefix}"`;
      throw new SwitchboardError(
        'SB_PLUGIN_DUPLICATE_PREFIX',
        `plugin folder ${plugin.folder.display} ${what}, which plugin folder ${taken.folder.display} already ${prefix === '' ? 'does' : 'uses'}; ${plugin.folder.display} is not mounted`,
        { culprit: plugin.folder.display },
      );
    }
    for (const other of this.#plugins.values()) {
      if (prefix === '' || other.prefix === '') continue;
      if (`${prefix}_`.startsWith(`${other.prefix}_`) || `${other.prefix}_`.startsWith(`${prefix}_`)) {
        throw new SwitchboardError(
          'SB_PLUGIN_PREFIX_OVERLAP',
          `plugin folder ${plugin.folder.display} uses prefix "${prefix}", which is ambiguous with prefix "${other.prefix}" of plugin folder ${other.folder.display} (a name like "${prefix}_x" could belong to either); ${plugin.folder.display} is not mounted`,
          { culprit: plugin.folder.display },
        );
      }
    }
    this.#plugins.set(prefix, plugin);
  }

  remove(plugin: Plugin): void {
    if (this.#plugins.get(plugin.prefix) === plugin) this.#plugins.delete(plugin.prefix);
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
