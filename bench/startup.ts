/**
 * Start-up to ready: the time from spawning the proxy (`node bin/switchboard.js serve`,
 * as users run it) to its `serving N plugin(s)` log line, which it prints once every plugin
 * source has been tried. With 50 generated in-process plugin folders (one tool each) and with
 * only the example plugin (the default `plugins/`, always searched); the median of ROUNDS
 * rounds, the two alternated. Target: <= 1 s with 50 folders (issue 11).
 */
import { generatedPluginsDir } from './plugin-dirs.ts';
import { allPluginsReady, spawnProxy } from './processes.ts';
import { median, type Results } from './report.ts';

const SECTION = 'startup';
const FOLDERS = 50;

/** Spawns a proxy over `pluginDirs`; the seconds until it said it serves, and how many plugins /readyz then shows ready. */
async function startOnce(pluginDirs: string[]): Promise<{ seconds: number; plugins: number }> {
  const spawned = performance.now();
  const proxy = await spawnProxy({ pluginDirs });
  const seconds = (performance.now() - spawned) / 1000;
  try {
    return { seconds, plugins: await allPluginsReady(new URL(proxy.url).origin) };
  } finally {
    await proxy.stop();
  }
}

export async function startupBench(results: Results, rounds: number): Promise<void> {
  console.log(`\n[${SECTION}] start-up to the "serving" log line, ${FOLDERS} plugin folders and 1 (${rounds} rounds)`);
  const many = (await generatedPluginsDir(FOLDERS, 1)).dir;
  const times = { many: [] as number[], one: [] as number[] };
  let plugins = { many: 0, one: 0 };
  for (let round = 0; round < rounds; round++) {
    for (const which of round % 2 === 0 ? (['many', 'one'] as const) : (['one', 'many'] as const)) {
      const run = await startOnce(which === 'many' ? [many] : []);
      times[which].push(run.seconds);
      plugins = { ...plugins, [which]: run.plugins };
    }
  }
  const target = { op: '<=' as const, value: 1, text: '<= 1 s' };
  const manyFigure = results.add(SECTION, 'fiftyFolders', `start-up to ready, ${FOLDERS} plugin folders (+ the example; ${plugins.many} ready)`, median(times.many), 's', `${median(times.many).toFixed(2)} s`, target);
  const oneFigure = results.add(SECTION, 'oneFolder', `start-up to ready, the example plugin alone (${plugins.one} ready)`, median(times.one), 's', `${median(times.one).toFixed(2)} s`);
  if (plugins.many !== FOLDERS + 1) results.fail(SECTION, new Error(`${plugins.many} plugins ready with ${FOLDERS} folders and the example, expected ${FOLDERS + 1}`));
  results.row({
    what: `start-up to ready, ${FOLDERS} plugin folders (and with 1)`,
    reference: '',
    proxy: `${manyFigure.text} (${oneFigure.text} with 1)`,
    now: '',
    target: '<= 1 s',
    figures: [manyFigure],
  });
}
