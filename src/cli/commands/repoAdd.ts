import { fullVersion } from '../../format/index.js';
import { shellQuote } from '../../util/shellQuote.js';
import { addPackages } from '../../repo/index.js';
import { flag, positional, usageError } from '../args.js';
import type { Command } from '../command.js';
import { count, optionList, table } from '../render.js';
import { repositoryLocking } from '../lockWaiting.js';

const command: Command = {
  words: ['repo', 'add'],
  summary: 'check packages (signature, hashes, duplicates) and stage them for the next commit',
  usage: [
    'kiln repo add DIR PACKAGE... [--sign]',
    '',
    "Every package must be signed by one of the repository's keys (or pass --sign to sign it",
    "with the repository's key). All are checked before any is staged.",
    'Example: kiln repo add /srv/binhost out/*.kpkg',
  ].join('\n'),
  options: { sign: { type: 'boolean' } },
  async run(invocation) {
    const dir = positional(invocation, command, 0, 'DIR');
    const files = invocation.positionals.slice(1);
    if (files.length === 0) throw usageError(command, 'missing PACKAGE');
    const result = await addPackages(dir, files, {
      sign: flag(invocation, 'sign'),
      password: invocation.settings.password,
      ...repositoryLocking(invocation),
    });
    const rows = result.staged.map((entry) => [
      'staged',
      entry.name,
      fullVersion(entry),
      entry.variant,
      `[${optionList(entry.options)}]`,
    ]);
    for (const entry of result.unchanged)
      rows.push(['unchanged', entry.name, fullVersion(entry), entry.variant, `[${optionList(entry.options)}]`]);
    return {
      data: result,
      text: table(rows),
      notes:
        result.staged.length > 0
          ? [
              `${count(result.staged.length, 'package')} staged; publish ${result.staged.length === 1 ? 'it' : 'them'} with "kiln repo commit ${shellQuote(dir)}"`,
            ]
          : ['nothing new to stage'],
    };
  },
};

export default command;
