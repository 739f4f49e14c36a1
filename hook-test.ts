import { register } from 'node:module';
import { tsImport } from 'tsx/esm/api';
register('./hook-impl.ts', import.meta.url, { data: { root: import.meta.dirname } });
try { const m = await tsImport('/tmp/hk/ext/p/index.ts', import.meta.url); console.log('tsImport', m.default); } catch (e) { console.log('tsImport failed', (e as Error).message.split('\n')[0]); }
