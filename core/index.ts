/**
 * What plugin authors and embedders import from `mcp-switchboard`.
 *
 *   import { definePlugin } from 'mcp-switchboard';
 *   export default definePlugin({ prefix: 'weather', server: () => new McpServer(...) });
 */
export { definePlugin } from './plugins/manifest.ts';
export type {
  PluginManifest,
  InProcessManifest,
  RemoteManifest,
  RemoteBackend,
  ServerFactory,
  PluginContext,
  McpServerLike,
} from './plugins/manifest.ts';
export { createSwitchboard, type Switchboard, type SwitchboardOptions } from './switchboard.ts';
export { loadConfig, type Config } from './config/config.ts';
export { SwitchboardError, ErrorCodes, type ErrorCode } from './errors.ts';
export { createLogger, type Logger, type LogLevel } from './log.ts';
