/**
 * How many backend sessions the remote fixture has open (its `open_sessions` tool), asked
 * directly, not through the proxy. The proxy keeps one of its own per remote plugin (the
 * plugin's monitor, core/plugins/probe.ts), so a benchmark counts them at the start and
 * compares. Closing a backend session follows its client session's end asynchronously, so this
 * waits up to `settleMs` for the count to come down to `expected` and returns the last count.
 */
import { McpSession } from './mcp-http.ts';
import { sleep } from './processes.ts';

export async function remoteSessionsOpen(remoteUrl: string, expected = 0, settleMs = 5000): Promise<number> {
  const probe = await McpSession.open(remoteUrl);
  try {
    const end = Date.now() + settleMs;
    for (;;) {
      const result = await probe.callTool('open_sessions');
      const others = Number(result.content[0]!.text) - 1; // not the probe's own session
      if (others <= expected || Date.now() > end) return others;
      await sleep(100);
    }
  } finally {
    await probe.close();
  }
}
