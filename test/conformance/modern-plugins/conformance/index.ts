/**
 * The 2026-07-28 conformance fixture (modern-fixture.ts), in-process and mounted without a
 * prefix. It is an SDK v2 server, so the proxy serves it with a handler of its own, a server per
 * request; the trigger tools publish list changes through that handler's `notify`, which the
 * proxy hands the factory.
 */
import { definePlugin } from 'mcp-switchboard';
import { createModernFixture } from '../../modern-fixture.ts';

export default definePlugin({
  prefix: '',
  name: 'conformance',
  description: 'The 2026-07-28 conformance suite fixture (in-process, SDK v2).',
  server: ({ notify }) => createModernFixture({ notify: () => notify }),
});
