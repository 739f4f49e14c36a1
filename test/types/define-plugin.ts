/**
 * Compile-time checks of the plugin contract (`npm run typecheck` fails if one does not hold):
 * a misspelt manifest key, at any depth, is a type error in the plugin author's editor.
 */
import { definePlugin } from '../../core/index.ts';

definePlugin({ prefix: 'ok', remote: { url: 'http://localhost:3001/mcp', headers: { A: 'b' }, era: 'auto' } });
definePlugin({ prefix: 'ok', command: { command: 'npx', args: ['-y', 'server'], env: { TZ: 'UTC' } }, required: true });

// @ts-expect-error a misspelt top-level key ("remot")
definePlugin({ prefix: 'typo', remot: { url: 'http://localhost:3001/mcp' } });

// @ts-expect-error a misspelt nested key ("heders")
definePlugin({ prefix: 'typo', remote: { url: 'http://localhost:3001/mcp', heders: {} } });

// @ts-expect-error an unknown era
definePlugin({ prefix: 'typo', remote: { url: 'http://localhost:3001/mcp', era: '2024' } });

// @ts-expect-error two kinds at once
definePlugin({ prefix: 'both', remote: { url: 'http://localhost:3001/mcp' }, command: { command: 'npx' } });
