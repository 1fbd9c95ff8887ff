import { pushRepository } from '../../repo/index.js';
import { flag, positional } from '../args.js';
import type { Command } from '../command.js';
import { repositoryLocking } from '../lockWaiting.js';
import { bytes, count, table } from '../render.js';

const command: Command = {
  words: ['repo', 'push'],
  summary: 'copy the published tree to its mirrors: new files first, the signed pointers last',
  usage: [
    'kiln repo push DIR [MIRROR...] [--prune]',
    '',
    'Mirrors are named in DIR/.kiln/config.toml ([mirrors.NAME] path = "/srv/mirror"); without a name, all of them.',
    'A push stopped at any point leaves each mirror serving the old serial or the new one, complete.',
    '--prune also deletes what the tree no longer has: run it a while after "kiln repo prune".',
    'Example: kiln repo push /srv/binhost eu us',
  ].join('\n'),
  options: {
    prune: { type: 'boolean' },
  },
  async run(invocation) {
    const dir = positional(invocation, command, 0, 'DIR');
    const pushed = await pushRepository(dir, {
      mirrors: invocation.positionals.slice(1),
      prune: flag(invocation, 'prune'),
      killAtStep: invocation.settings.killAtStep,
      password: invocation.settings.password,
      now: invocation.settings.now,
      ...repositoryLocking(invocation),
    });
    const rows = pushed.map((mirror) => [
      mirror.mirror,
      `serial ${mirror.serial}`,
      `${count(mirror.copied, 'file')} (${bytes(mirror.bytes)})`,
      `${mirror.pointers} pointers`,
      mirror.pruned > 0 ? `${mirror.pruned} pruned` : '',
      mirror.path,
    ]);
    return { data: pushed, text: table([['MIRROR', 'NOW', 'COPIED', 'SWAPPED', 'PRUNED', 'PATH'], ...rows]) };
  },
};

export default command;
