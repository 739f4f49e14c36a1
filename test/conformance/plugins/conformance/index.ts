/**
 * The conformance fixture, in-process and mounted without a prefix: the suite calls
 * `test_simple_text`, reads `test://static-text` and so on, as the fixture names them.
 */
import { definePlugin } from 'mcp-switchboard';
import { createFixtureServer } from '../../fixture-server.ts';

export default definePlugin({
  prefix: '',
  name: 'conformance',
  description: 'The conformance suite fixture (in-process).',
  server: () => createFixtureServer(),
});
