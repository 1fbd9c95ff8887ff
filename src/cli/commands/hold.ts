import type { Command } from '../command.js';
import { withPrefix } from '../prefixSession.js';

const command: Command = {
  words: ['hold'],
  summary: 'hold installed packages at their version (upgrade leaves them), or list the held ones',
  usage: [
    'kiln hold [NAME...]',
    '',
    'A held package stays at the version and variant installed: "kiln upgrade" leaves it, and what would',
    'need it newer stays back with it (as apt-mark hold, pacman IgnorePkg). "kiln upgrade NAME" of a held',
    'package is E_HELD. Without a name, lists the held packages. Kept as [solver] hold in config.toml.',
    'Example: kiln hold nginx',
  ].join('\n'),
  options: {},
  async run(invocation) {
    const names = invocation.positionals;
    return withPrefix(invocation, async (prefix) => {
      if (names.length === 0) {
        const held = prefix.held();
        return { data: held, text: held.join('\n'), notes: held.length === 0 ? ['no package is held'] : [] };
      }
      const held = await prefix.hold(names, true);
      return { data: held, text: `held: ${held.join(', ')}` };
    });
  },
};

export default command;
