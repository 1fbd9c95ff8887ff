import { initPrefix } from '../../install/index.js';
import { shellQuote } from '../../util/shellQuote.js';
import { flag, noMorePositionals, usageError } from '../args.js';
import type { Command } from '../command.js';

const command: Command = {
  words: ['init'],
  summary: 'create a prefix (configuration, database, cache)',
  usage: [
    'kiln [--prefix DIR] init [--system | --user]',
    '',
    'The prefix is --prefix, else $KILN_PREFIX, else / for root and ~/.local/kiln for others.',
    '--system: the prefix is the root of a system: as root, users and groups are created in its',
    'etc/passwd and etc/group, and owners and setuid bits are applied (the default for /).',
    'Example: kiln --prefix ~/stack init',
  ].join('\n'),
  options: { system: { type: 'boolean' }, user: { type: 'boolean' } },
  async run(invocation) {
    noMorePositionals(invocation, command, 0);
    if (flag(invocation, 'system') && flag(invocation, 'user'))
      throw usageError(command, '--system and --user exclude each other');
    const mode = flag(invocation, 'system') ? 'system' : flag(invocation, 'user') ? 'user' : undefined;
    const paths = await initPrefix(invocation.settings.prefix, mode === undefined ? {} : { mode });
    return {
      data: paths,
      text: `created prefix ${paths.root}\nconfiguration: ${paths.config}\nnext: kiln --prefix ${shellQuote(paths.root)} remote add NAME URL --key PUBKEY`,
    };
  },
};

export default command;
