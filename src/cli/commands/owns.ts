import { noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';
import { ownersOf } from '../../install/installedQuery.js';
import { withInstalled } from '../querySession.js';

const command: Command = {
  words: ['owns'],
  summary: 'show which installed package owns a path',
  usage: 'kiln owns PATH [--json]\nPATH: absolute inside the prefix, or relative to it. Example: kiln owns bin/nginx',
  options: {},
  async run(invocation) {
    const path = positional(invocation, command, 0, 'PATH');
    noMorePositionals(invocation, command, 1);
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
