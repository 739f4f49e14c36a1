/**
 * One AsyncLocalStorage for every per-request value the proxy keeps on an async path (the
 * client request, the backend request, the HTTP exchange), each in a slot of its own.
 *
 * Why one: on Node 20 every AsyncLocalStorage instance adds its own propagation step to every
 * promise and async resource created while any is in use (`_propagate` in the promise hooks);
 * three instances tripled that on every call (issue 11's profiles). A slot behaves as an
 * AsyncLocalStorage of its own would (`run`, `exit`, `getStore`), so a slot's users need not
 * know the others exist.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** What runs on an async path: each slot's value, by the slot's own key. Never mutated, only replaced. */
type Context = Readonly<Record<symbol, unknown>>;

const storage = new AsyncLocalStorage<Context>();

export class AsyncSlot<T> {
  readonly #key: symbol;

  /** `name` is for debugging only; two slots of the same name are still two slots. */
  constructor(name: string) {
    this.#key = Symbol(name);
  }

  /** This slot's value on the current async path, if one is set. */
  getStore(): T | undefined {
    return storage.getStore()?.[this.#key] as T | undefined;
  }

  /** Runs `fn` with this slot set to `value` (the other slots as they are). */
  run<R>(value: T, fn: () => R): R {
    return storage.run({ ...storage.getStore(), [this.#key]: value }, fn);
  }

  /** Runs `fn` with this slot unset (the other slots as they are). */
  exit<R>(fn: () => R): R {
    const context = storage.getStore();
    if (context?.[this.#key] === undefined) return fn();
    const { [this.#key]: _left, ...rest } = context;
    return storage.run(rest, fn);
  }
}
