import { noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';
import { withPrefix } from '../prefixSession.js';

const command: Command = {
  words: ['remote', 'remove'],
  summary: 'remove a remote and its synced index',
  usage: 'kiln remote remove NAME\nInstalled packages stay installed.\nExample: kiln remote remove testing',
  options: {},
  async run(invocation) {
    const name = positional(invocation, command, 0, 'NAME');
    noMorePositionals(invocation, command, 1);
    return withPrefix(invocation, async (prefix) => {
      await prefix.removeRemote(name);
      return { data: { removed: name }, text: `removed remote ${name}` };
    });
  },
};

export default command;
