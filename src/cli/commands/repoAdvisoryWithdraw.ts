import { withdrawAdvisory } from '../../repo/index.js';
import { shellQuote } from '../../util/shellQuote.js';
import { noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';
import { repositoryLocking } from '../lockWaiting.js';

const command: Command = {
  words: ['repo', 'advisory', 'withdraw'],
  summary: 'withdraw an advisory: it stays published, marked withdrawn, and affects nothing',
  usage: [
    'kiln repo advisory withdraw DIR ID',
    '',
    'Sets the advisory\'s OSV "withdrawn" time (an advisory published in error). The next "kiln repo commit"',
    'publishes it; clients then stop reporting it and stop refusing what it named.',
    'Example: kiln repo advisory withdraw /srv/binhost KILN-2026-0001',
  ].join('\n'),
  options: {},
  async run(invocation) {
    const dir = positional(invocation, command, 0, 'DIR');
    const id = positional(invocation, command, 1, 'ID');
    noMorePositionals(invocation, command, 2);
    const advisory = await withdrawAdvisory(dir, id, invocation.settings.now(), repositoryLocking(invocation));
    return {
      data: advisory,
      text: `${id} withdrawn at ${advisory.withdrawn ?? ''}`,
      notes: [`publish it with "kiln repo commit ${shellQuote(dir)}"`],
    };
  },
};

export default command;
