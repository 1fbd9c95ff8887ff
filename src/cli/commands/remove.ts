import { flag, usageError } from '../args.js';
import type { Command } from '../command.js';
import { daemonChange, daemonSocket } from '../daemonSession.js';
import { CHANGE_OPTIONS, changeOptions, changeOutput, withPrefix } from '../prefixSession.js';

const command: Command = {
  words: ['remove'],
  summary: 'remove installed packages',
  usage: [
    'kiln remove NAME... [--cascade] [--dry-run] [-y]',
    '',
    'Refuses while other installed packages need one of them, naming them; --cascade removes',
    'those too. Packages are removed consumers first. Changed configuration files are kept.',
    'Example: kiln remove nginx --dry-run',
  ].join('\n'),
  options: { ...CHANGE_OPTIONS, cascade: { type: 'boolean' } },
  async run(invocation) {
    if (invocation.positionals.length === 0) throw usageError(command, 'missing NAME');
    const socket = daemonSocket(invocation);
    if (socket !== undefined) return daemonChange(invocation, socket, 'remove', invocation.positionals);
    return withPrefix(invocation, async (prefix) => {
      const result = await prefix.remove(invocation.positionals, {
        ...changeOptions(invocation),
        cascade: flag(invocation, 'cascade'),
      });
      return changeOutput(result, invocation);
    });
  },
};

export default command;
