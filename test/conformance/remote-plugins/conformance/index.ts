/**
 * The conformance fixture as a remote backend (test/conformance/remote-server.ts, started by
 * the runner), mounted without a prefix. The runner passes its URL in CONFORMANCE_REMOTE_URL.
 */
import { definePlugin } from 'mcp-switchboard';

const url = process.env.CONFORMANCE_REMOTE_URL;
if (!url) throw new Error('CONFORMANCE_REMOTE_URL is not set (the URL of test/conformance/remote-server.ts)');

export default definePlugin({
  prefix: '',
  name: 'conformance',
  description: 'The conformance suite fixture (remote, streamable HTTP).',
  remote: { url, transport: 'streamable-http' },
});
