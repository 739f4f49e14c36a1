/**
 * A plugin's policy over its lists (the config's `plugins.<prefix>.tools`, `.prompts`,
 * `.resources`): which items clients see, and with which descriptions. Globs (picomatch) match
 * the backend's own names, and its URIs (a resource's `uri`, a template's `uriTemplate`, the URI
 * of a read); `deny` wins over `allow`, and without `allow` everything not denied is shown.
 * Renames are the namespace's business (namespace.ts); this file only says what is shown.
 *
 * Pure. It is applied once to each list fetched from a backend (plugin-catalog.ts), so the lists
 * the sessions share stay shared; a policy that changes nothing returns the list itself.
 */
import picomatch from 'picomatch';
import type { ListItem, ListKind } from './plugin-catalog.ts';

/** Rules for tools or prompts, keyed by the backend's names. */
export interface NamedRules {
  allow?: readonly string[];
  deny?: readonly string[];
  /** Backend name -> the name clients see (then namespaced as usual). */
  rename?: Readonly<Record<string, string>>;
  /** Backend name -> the description clients see. */
  descriptions?: Readonly<Record<string, string>>;
}

/** Rules for resources and resource templates, keyed by the backend's URIs (and URI templates). */
export interface ResourceRules {
  allow?: readonly string[];
  deny?: readonly string[];
  /** Backend URI (or URI template) -> the description clients see. */
  descriptions?: Readonly<Record<string, string>>;
}

export interface ListRules {
  tools?: NamedRules;
  prompts?: NamedRules;
  resources?: ResourceRules;
}

/** The field that names an item of each list. */
const KEY: Record<ListKind, 'name' | 'uri' | 'uriTemplate'> = {
  tools: 'name',
  prompts: 'name',
  resources: 'uri',
  resourceTemplates: 'uriTemplate',
};

/** `*` does not cross `/` (use `**`); names starting with `.` are matched like any other. */
const GLOB_OPTIONS = { dot: true } as const;

/** A matcher for globs; an empty list matches nothing. */
export function globMatcher(globs: readonly string[]): (value: string) => boolean {
  return globs.length ? picomatch([...globs], GLOB_OPTIONS) : () => false;
}

class Rules {
  readonly #allow?: (value: string) => boolean;
  readonly #deny?: (value: string) => boolean;
  readonly #descriptions: ReadonlyMap<string, string>;

  constructor(rules: { allow?: readonly string[]; deny?: readonly string[]; descriptions?: Readonly<Record<string, string>> }) {
    if (rules.allow) this.#allow = globMatcher(rules.allow);
    if (rules.deny) this.#deny = globMatcher(rules.deny);
    this.#descriptions = new Map(Object.entries(rules.descriptions ?? {}));
  }

  shows(key: string): boolean {
    return (this.#allow?.(key) ?? true) && !this.#deny?.(key);
  }

  description(key: string): string | undefined {
    return this.#descriptions.get(key);
  }
}

export class ListPolicy {
  readonly #tools?: Rules;
  readonly #prompts?: Rules;
  readonly #resources?: Rules;

  constructor(rules: ListRules = {}) {
    if (rules.tools) this.#tools = new Rules(rules.tools);
    if (rules.prompts) this.#prompts = new Rules(rules.prompts);
    if (rules.resources) this.#resources = new Rules(rules.resources);
  }

  /**
   * Whether clients see, and may use, the item the backend calls `key`: a tool or prompt name,
   * or a resource URI or URI template (for `resources` and `resourceTemplates` alike).
   */
  shows(kind: ListKind, key: string): boolean {
    return this.#rules(kind)?.shows(key) ?? true;
  }

  /**
   * The items of a backend's list that clients see, with the descriptions the policy gives
   * them. `items` itself when the policy changes nothing in it; otherwise a new array (the
   * backend's items are never modified). Items without a name or URI are left for the merge to report.
   */
  apply(kind: ListKind, items: ListItem[]): ListItem[] {
    const rules = this.#rules(kind);
    if (!rules) return items;
    const key = KEY[kind];
    const shown: ListItem[] = [];
    let changed = false;
    for (const item of items) {
      const id = item[key];
      if (typeof id !== 'string') {
        shown.push(item);
        continue;
      }
      if (!rules.shows(id)) {
        changed = true;
        continue;
      }
      const description = rules.description(id);
      if (description !== undefined && description !== item.description) {
        shown.push({ ...item, description });
        changed = true;
      } else {
        shown.push(item);
      }
    }
    return changed ? shown : items;
  }

  #rules(kind: ListKind): Rules | undefined {
    switch (kind) {
      case 'tools':
        return this.#tools;
      case 'prompts':
        return this.#prompts;
      case 'resources':
      case 'resourceTemplates':
        return this.#resources;
    }
  }
}
