import type { Command } from '../command.js';
import { CHANGE_OPTIONS, changeOptions, changeOutput, withPrefix } from '../prefixSession.js';

const command: Command = {
  words: ['autoremove'],
  summary: 'remove dependencies that nothing needs any more',
  usage: [
    'kiln autoremove [--dry-run] [-y]',
    '',
    'Removes the packages that were pulled in as dependencies (not asked for by name) and that no',
    'package asked for by name needs any more, directly or through others. Packages listed in',
    '[solver] protected of the prefix configuration are never removed this way. Consumers first.',
    'Example: kiln autoremove --dry-run',
  ].join('\n'),
  options: { ...CHANGE_OPTIONS },
  async run(invocation) {
    return withPrefix(invocation, async (prefix) => {
      const result = await prefix.autoremove(changeOptions(invocation));
      return changeOutput(result, invocation);
    });
  },
};

export default command;
