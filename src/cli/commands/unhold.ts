import { usageError } from '../args.js';
import type { Command } from '../command.js';
import { withPrefix } from '../prefixSession.js';

const command: Command = {
  words: ['unhold'],
  summary: 'release held packages, so that upgrade takes them again',
  usage: 'kiln unhold NAME...\nExample: kiln unhold nginx',
  options: {},
  async run(invocation) {
    const names = invocation.positionals;
    if (names.length === 0) throw usageError(command, 'missing NAME');
    return withPrefix(invocation, async (prefix) => {
      const held = await prefix.hold(names, false);
      return { data: held, text: held.length === 0 ? 'no package is held' : `held: ${held.join(', ')}` };
    });
  },
};

export default command;
