/** Opens a backend connection the way the plugin's kind needs (see connection.ts). */
import type { Plugin } from '../../plugins/plugin.ts';
import type { ConnectOptions, Connection } from './connection.ts';
import { connectInProcess } from './in-process.ts';
import { connectRemote } from './remote.ts';
import { connectCommand } from './command.ts';

export function connect(plugin: Plugin, options: ConnectOptions): Promise<Connection> {
  switch (plugin.kind) {
    case 'in-process':
      return connectInProcess(plugin, options);
    case 'remote':
      return connectRemote(plugin, options);
    case 'command':
      return connectCommand(plugin, options);
  }
}
