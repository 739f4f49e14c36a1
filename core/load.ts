/**
 * Loading: import a discovered plugin folder's entry file and check its manifest.
 * Every failure is a SwitchboardError naming the folder (and the field, for manifests).
 */
import { register } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ENTRY_FILES, type PluginFolder } from './discover.ts';
import { checkManifest, type PluginManifest } from './manifest.ts';
import { SwitchboardError, messageOf } from './errors.ts';

const appRoot = dirname(dirname(fileURLToPath(import.meta.url)));
let hooksRegistered = false;

/** Imports `folder`'s entry and returns its validated manifest. */
export async function loadManifest(folder: PluginFolder): Promise<PluginManifest> {
  if (!folder.entry) {
    throw new SwitchboardError(
      'SB_PLUGIN_NO_ENTRY',
      `plugin folder ${folder.display}: no entry file (expected one of ${ENTRY_FILES.join(', ')})`,
      { culprit: folder.display },
    );
  }
  if (!hooksRegistered) {
    register(new URL('./import-hooks.ts', import.meta.url), { data: { appRoot } });
    hooksRegistered = true;
  }
  let exports: { default?: unknown };
  try {
    exports = await import(pathToFileURL(folder.entry).href);
  } catch (error) {
    throw new SwitchboardError('SB_PLUGIN_IMPORT', `plugin folder ${folder.display}: import failed: ${messageOf(error)}`, {
      cause: error,
      culprit: folder.display,
    });
  }
  const checked = checkManifest(exports.default);
  if ('problems' in checked) {
    throw new SwitchboardError(
      'SB_PLUGIN_MANIFEST',
      `plugin folder ${folder.display}: invalid manifest: ${checked.problems.join('; ')}`,
      { culprit: folder.display },
    );
  }
  return checked.manifest;
}
