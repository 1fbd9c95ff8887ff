import { revertRepository } from '../../repo/index.js';
import { noMorePositionals, positional, usageError } from '../args.js';
import type { Command } from '../command.js';
import { commitOptions } from './repoCommit.js';
import { count, time } from '../render.js';

const command: Command = {
  words: ['repo', 'revert'],
  summary: 'publish the package set of an earlier serial again, as a new serial',
  usage: [
    'kiln repo revert DIR SERIAL [-m MESSAGE] [--expire-days N]',
    '',
    'Undoes a bad publish: the packages of SERIAL are published as serial + 1 (the serial never goes down, so',
    'clients take it as any update). Refused when SERIAL was pruned, or a package file it names is gone.',
    'Example: kiln repo revert /srv/binhost 41 -m "back out nginx 1.25.0"',
  ].join('\n'),
  options: {
    message: { type: 'string', short: 'm' },
    'expire-days': { type: 'string' },
  },
  async run(invocation) {
    const dir = positional(invocation, command, 0, 'DIR');
    const serialText = positional(invocation, command, 1, 'SERIAL');
    noMorePositionals(invocation, command, 2);
    if (!/^[1-9]\d{0,15}$/.test(serialText))
      throw usageError(command, `SERIAL is a published serial (1, 2, …), not "${serialText}"`);
    const result = await revertRepository(dir, Number(serialText), commitOptions(invocation, command));
    const { index } = result;
    return {
      data: {
        serial: index.serial,
        revertedTo: result.revertedTo,
        created: index.created,
        expires: index.expires,
        packages: index.packages.length,
        added: result.added.length,
        retired: result.retired.length,
      },
      text: `published ${index.name} serial ${index.serial} with the packages of serial ${result.revertedTo}: ${result.added.length} added back, ${result.retired.length} retired, ${count(index.packages.length, 'package')}; expires ${time(index.expires)}`,
    };
  },
};

export default command;
