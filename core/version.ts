/**
 * The package's version, read once from package.json: the proxy's `serverInfo`, the CLI's
 * `clientInfo` and `switchboard --version`. Its own module, so the CLI reads it without loading the proxy.
 */
import { readFileSync } from 'node:fs';

export const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
