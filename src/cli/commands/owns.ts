import { flag, noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';
import { ownersOf } from '../../install/installedQuery.js';
import { withInstalled } from '../querySession.js';

const command: Command = {
  words: ['owns'],
  summary: 'show which installed package owns a path, or which available ones install it',
  usage: [
    'kiln owns PATH [--available] [--json]',
    'PATH: absolute inside the prefix, or relative to it.',
    "--available: every package the synced remotes offer that installs PATH, from the repositories' file lists",
    '(as pacman -F).',
    'Example: kiln owns bin/nginx',
  ].join('\n'),
  options: { available: { type: 'boolean' } },
  async run(invocation) {
    const path = positional(invocation, command, 0, 'PATH');
    noMorePositionals(invocation, command, 1);
    if (flag(invocation, 'available')) {
      const { withPrefix } = await import('../prefixSession.js');
      return withPrefix(invocation, async (prefix) => {
        const result = await prefix.availableOwners(path);
        return {
          data: result,
          text: result.owners
            .map((owner) => `${result.path} is in ${owner.package} ${owner.version} (${owner.remote})`)
            .join('\n'),
        };
      });
    }
    return withInstalled(invocation, (source) => {
      const result = ownersOf(source, path);
      return {
        data: result,
        text: result.owners.map((owner) => `${result.path} is owned by ${owner.package} ${owner.version}`).join('\n'),
      };
    });
  },
};

export default command;
