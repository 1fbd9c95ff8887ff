import type { Command } from '../command.js';
import { CHANGE_OPTIONS, changeOptions, changeOutput, withPrefix } from '../prefixSession.js';

const command: Command = {
  words: ['upgrade'],
  summary: 'upgrade installed packages to their newest versions',
  usage: 'kiln upgrade [NAME...] [--dry-run] [-y]\nWithout names, every installed package. Run "kiln sync" first.',
  options: { ...CHANGE_OPTIONS },
  async run(invocation) {
    const names = invocation.positionals.length === 0 ? 'all' : invocation.positionals;
    return withPrefix(invocation, async (prefix) => {
      const result = await prefix.upgrade(names, changeOptions(invocation, `upgrade ${invocation.positionals.join(' ')}`.trimEnd()));
      return changeOutput(result, invocation);
    });
  },
};

export default command;
