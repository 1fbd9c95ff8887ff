import { flag, noMorePositionals } from '../args.js';
import type { Command } from '../command.js';
import { CHANGE_OPTIONS, withPrefix } from '../prefixSession.js';
import { cleanOutput } from './cachePrune.js';

const command: Command = {
  words: ['cache', 'clean'],
  summary: 'delete the cached packages no installed version needs',
  usage: [
    'kiln cache clean [--dry-run]',
    '',
    'As pacman -Sc: every package file in the cache that is not the very package installed here',
    '(same name, version and variant), partial downloads, and files that are not packages.',
    'A later install downloads what it needs again.',
    'Example: kiln cache clean --dry-run',
  ].join('\n'),
  options: { 'dry-run': CHANGE_OPTIONS['dry-run'] },
  async run(invocation) {
    noMorePositionals(invocation, command, 0);
    const dryRun = flag(invocation, 'dry-run');
    return withPrefix(invocation, async (prefix) => cleanOutput(await prefix.cleanCache({ dryRun }), dryRun));
  },
};

export default command;
