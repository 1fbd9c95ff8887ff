import { noMorePositionals } from '../args.js';
import type { Command } from '../command.js';
import { withPrefix } from '../prefixSession.js';
import { table, time } from '../render.js';

const command: Command = {
  words: ['remote', 'list'],
  summary: 'list the remotes, their keys and what was last synced',
  usage: 'kiln remote list [--json]\nExample: kiln remote list',
  options: {},
  async run(invocation) {
    noMorePositionals(invocation, command, 0);
    return withPrefix(invocation, async (prefix) => {
      const remotes = prefix.listRemotes();
      const rows = remotes.map((remote) => [
        remote.name,
        String(remote.priority),
        [remote.url, ...(remote.mirrors ?? []).map((mirror) => `mirror ${mirror}`)].join(', '),
        remote.keyIds.join(','),
        remote.state === null ? 'never synced' : `serial ${remote.state.serial}, expires ${time(remote.state.expires)}`,
      ]);
      return {
        data: remotes,
        text:
          remotes.length === 0
            ? 'no remotes (add one with "kiln remote add")'
            : table([['NAME', 'PRIORITY', 'URL', 'KEYS', 'SYNCED'], ...rows]),
      };
    });
  },
};

export default command;
