/**
 * AsyncSlot (core/async-slot.ts): slots of the one AsyncLocalStorage behave as separate
 * AsyncLocalStorage instances would: set, nested, exited, each without touching the others,
 * across awaits and timers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { AsyncSlot } from '../core/async-slot.ts';

test('a slot keeps its value on its async path; other slots are untouched by its run and exit', async () => {
  const a = new AsyncSlot<string>('a');
  const b = new AsyncSlot<{ n: number }>('b');
  assert.equal(a.getStore(), undefined);
  const box = { n: 1 };
  await a.run('outer', async () => {
    await b.run(box, async () => {
      await sleep(1);
      assert.equal(a.getStore(), 'outer');
      assert.equal(b.getStore(), box, 'the very object given to run, so a scope mutated later is seen');
      await a.run('inner', async () => {
        await sleep(1);
        assert.equal(a.getStore(), 'inner');
        assert.equal(b.getStore(), box);
      });
      assert.equal(a.getStore(), 'outer');
      const later = a.exit(() => new Promise<string | undefined>((resolve) => setTimeout(() => resolve(a.getStore()), 1)));
      assert.equal(await later, undefined, 'exit: what starts inside it (a timer here) never sees the slot');
      assert.equal(b.exit(() => a.getStore()), 'outer', 'exiting one slot keeps the others');
      assert.equal(b.exit(() => b.getStore()), undefined);
    });
    assert.equal(b.getStore(), undefined);
  });
  assert.equal(a.getStore(), undefined);
  assert.equal(a.exit(() => 'ran'), 'ran', 'exit outside any run just runs');
});

test('two slots made with the same name are still two slots', () => {
  const one = new AsyncSlot<number>('same');
  const two = new AsyncSlot<number>('same');
  one.run(1, () => assert.equal(two.getStore(), undefined));
});
