import { flag, usageError } from '../args.js';
import type { Command } from '../command.js';
import { CHANGE_OPTIONS, changeOptions, changeOutput, withPrefix } from '../prefixSession.js';

const command: Command = {
  words: ['mark'],
  summary: 'mark installed packages as requested or as dependencies',
  usage: [
    'kiln mark --requested NAME... | --dependency NAME...',
    '',
    'A package asked for by name is "requested"; one pulled in for another is a "dependency", which',
    '"kiln autoremove" removes once nothing requested needs it (as pacman -D --asexplicit/--asdeps).',
    'The change is a transaction of its own, in "kiln history".',
    'Example: kiln mark --dependency zlib',
  ].join('\n'),
  options: { requested: { type: 'boolean' }, dependency: { type: 'boolean' }, 'dry-run': CHANGE_OPTIONS['dry-run'] },
  async run(invocation) {
    const requested = flag(invocation, 'requested');
    if (requested === flag(invocation, 'dependency'))
      throw usageError(command, 'give one of --requested, --dependency');
    const names = invocation.positionals;
    if (names.length === 0) throw usageError(command, 'missing NAME');
    return withPrefix(invocation, async (prefix) => {
      const result = await prefix.mark(names, requested ? 'requested' : 'dependency', changeOptions(invocation));
      const output = changeOutput(result, invocation);
      return output.text === '' && output.notes.includes('nothing to do')
        ? { ...output, notes: [`already marked as ${requested ? 'requested' : 'a dependency'}`] }
        : output;
    });
  },
};

export default command;
