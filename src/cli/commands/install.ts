import { flag } from '../args.js';
import { usageError } from '../args.js';
import type { Command } from '../command.js';
import { CHANGE_OPTIONS, changeOptions, changeOutput, withPrefix } from '../prefixSession.js';
import { parseRequest } from '../../solver/index.js';

const command: Command = {
  words: ['install'],
  summary: 'install packages and what they depend on',
  usage: [
    'kiln install NAME[RANGE]... [--dry-run] [-y] [--reinstall]',
    '',
    'Shows the plan (what is added or upgraded, from which remote, how much to download), asks,',
    'then downloads, verifies and commits it as one transaction.',
    'Examples: kiln install nginx    kiln install "zlib>=1.3 <2" -y    kiln install app --dry-run',
  ].join('\n'),
  options: { ...CHANGE_OPTIONS, reinstall: { type: 'boolean' } },
  async run(invocation) {
    if (invocation.positionals.length === 0) throw usageError(command, 'missing NAME');
    const requests = invocation.positionals.map(parseRequest);
    return withPrefix(invocation, async (prefix) => {
      const result = await prefix.install(requests, { ...changeOptions(invocation, `install ${invocation.positionals.join(' ')}`), reinstall: flag(invocation, 'reinstall') });
      return changeOutput(result, invocation);
    });
  },
};

export default command;
