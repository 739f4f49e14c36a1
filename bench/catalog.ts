/**
 * A large catalogue: a plugin with TOOLS tools (5,000 by default; big-tools.ts) and SESSIONS
 * (200) client sessions at once, each listing every page of tools and calling one tool, then
 * staying open. The proxy's RSS is sampled throughout (the peak is the figure) and again once
 * they are all open. Run against the plugin in-process (its servers live in the proxy) and as
 * a remote server (a separate process, so the proxy holds only the lists and the connections).
 */
import { bigTools } from './big-tools.ts';
import { Inspector, settledMemory } from './inspector.ts';
import { runPool } from './load.ts';
import { McpSession } from './mcp-http.ts';
import { generatedPluginsDir, remotePluginDir } from './plugin-dirs.ts';
import { rss, sampleRss, sessionsLeft, sleep, startBareServer, startProxy, type Running } from './processes.ts';
import { atMostMB, mib, reportWarnings, type Results } from './report.ts';

export type CatalogVariant = 'in-process' | 'remote';

export async function catalogBench(results: Results, sizes: { tools: number; sessions: number }, variant: CatalogVariant): Promise<void> {
  const section = `catalog-${variant}`;
  console.log(`\n[${section}] a ${variant} plugin with ${sizes.tools} tools, ${sizes.sessions} sessions at once, each listing all pages and calling one tool`);
  const names = bigTools(sizes.tools).map((tool) => `big_${tool.name}`);
  let server: Running | undefined;
  let dir: string;
  const big = await generatedPluginsDir(1, sizes.tools);
  if (variant === 'remote') {
    server = await startBareServer(big.modules[0]!);
    dir = await remotePluginDir(server.url, 'big');
  } else {
    dir = big.dir;
  }
  const proxy = await startProxy({ pluginDirs: [dir], inspect: true });
  const inspector = await Inspector.connect(proxy.inspectorUrl!);
  try {
    await sleep(1000);
    const baseline = await rss(proxy.pid);
    const sampler = sampleRss(proxy.pid);
    const sessions: McpSession[] = [];
    let wrongLists = 0;
    let pages = 0;
    const outcome = await runPool(sizes.sessions, sizes.sessions, async (i) => {
      const session = await McpSession.open(proxy.url);
      sessions.push(session);
      const listed = new Set<unknown>();
      let cursor: string | undefined;
      do {
        const page = await session.request<{ tools: Array<{ name: string }>; nextCursor?: string }>('tools/list', cursor === undefined ? {} : { cursor });
        for (const tool of page.tools) listed.add(tool.name);
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== undefined);
      // Every generated tool and the example plugin's one.
      if (listed.size !== sizes.tools + 1 || !listed.has(names[i % names.length])) wrongLists++;
      await session.callTool(names[i % names.length]!, { id: `record-${i}`, limit: 5 });
    });
    const peak = await sampler.stop();
    await sleep(1000);
    const open = await rss(proxy.pid);
    const settled = await settledMemory(inspector);

    results.add(section, 'rssBaseline', 'proxy RSS, plugin mounted, no session', baseline, 'bytes', mib(baseline));
    results.add(section, 'rssPeak', `proxy RSS peak, ${sessions.length} sessions listing and calling`, peak, 'bytes', mib(peak), atMostMB(300));
    results.add(section, 'rssOpen', `proxy RSS with those sessions open, after`, open, 'bytes', `${mib(open)} (heap after GC ${mib(settled.heapUsed)})`, atMostMB(300));
    results.add(section, 'seconds', `listing (${pages} pages) and calling took`, outcome.seconds, 's', `${outcome.seconds.toFixed(1)} s`);
    results.add(section, 'failures', 'sessions that failed', outcome.failed, 'count', `${outcome.failed}${outcome.firstError ? `: ${outcome.firstError.slice(0, 80)}` : ''}`, {
      op: '=',
      value: 0,
      text: '0',
    });
    results.add(section, 'wrongLists', `sessions whose list was not all ${sizes.tools + 1} tools`, wrongLists, 'count', String(wrongLists), { op: '=', value: 0, text: '0' });
    if (server) {
      const serverRss = await rss(server.pid);
      results.add(section, 'serverRss', 'the remote server process RSS (for comparison)', serverRss, 'bytes', mib(serverRss));
    }

    await runPool(sessions.length, 50, (i) => sessions[i]!.close());
    const left = await sessionsLeft(proxy.base);
    results.add(section, 'sessionsLeft', 'sessions still open after DELETE of all', left, 'count', String(left), { op: '=', value: 0, text: '0' });
    reportWarnings(results, section, proxy);
  } finally {
    inspector.close();
    await proxy.stop();
    await server?.stop();
  }
}
