import { fullVersion } from '../../format/index.js';
import { shellQuote } from '../../util/shellQuote.js';
import { removePackages } from '../../repo/index.js';
import { positional, stringOption, usageError } from '../args.js';
import type { Command } from '../command.js';
import { count, table } from '../render.js';
import { repositoryLocking } from '../lockWaiting.js';

const command: Command = {
  words: ['repo', 'remove'],
  summary: 'unstage packages, or retire published ones in the next commit',
  usage: [
    'kiln repo remove DIR NAME[-VERSION[-rN]]... [--variant ID]',
    '',
    'NAME matches every version; NAME-VERSION every revision of it; NAME-VERSION-rN one.',
    'Retired files stay on disk until "kiln repo prune", so clients of the previous index',
    'can still download them.',
    'Example: kiln repo remove /srv/binhost nginx-1.22.1 --variant 3fa2b1c4d5e6',
  ].join('\n'),
  options: { variant: { type: 'string' } },
  async run(invocation) {
    const dir = positional(invocation, command, 0, 'DIR');
    const specs = invocation.positionals.slice(1);
    if (specs.length === 0) throw usageError(command, 'missing NAME');
    const result = await removePackages(dir, specs, {
      variant: stringOption(invocation, 'variant'),
      ...repositoryLocking(invocation),
    });
    const rows = [
      ...result.dropped.map((entry) => ['unstaged', entry.name, fullVersion(entry), entry.variant]),
      ...result.retired.map((entry) => ['retire', entry.name, fullVersion(entry), entry.variant]),
    ];
    return {
      data: result,
      text: table(rows),
      notes:
        result.retired.length > 0
          ? [
              `${count(result.retired.length, 'package')} will be retired by the next "kiln repo commit ${shellQuote(dir)}"`,
            ]
          : [],
    };
  },
};

export default command;
