import { fullVersion } from '../../format/index.js';
import { repositoryStatus } from '../../repo/index.js';
import { noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';
import { count, optionList, table, time } from '../render.js';

const command: Command = {
  words: ['repo', 'status'],
  summary: 'show what is published and what is staged',
  usage: 'kiln repo status DIR [--json]\nExample: kiln repo status /srv/binhost',
  options: {},
  async run(invocation) {
    const dir = positional(invocation, command, 0, 'DIR');
    noMorePositionals(invocation, command, 1);
    const status = await repositoryStatus(dir, invocation.settings.now());
    const p = status.published;
    const lines = [
      `repository ${status.name} (${dir})`,
      `published: serial ${p.serial}, ${count(p.packages, 'package')}, created ${time(p.created)}, ${p.expired ? 'EXPIRED' : 'expires'} ${time(p.expires)}`,
      `keys: ${p.keys.join(', ')}`,
    ];
    if (status.lastCommit)
      lines.push(
        `last commit: serial ${status.lastCommit.serial} at ${status.lastCommit.time}${status.lastCommit.message ? `: ${status.lastCommit.message}` : ''}`,
      );
    const adds = status.staged.adds.map((entry) => [
      '  add',
      entry.name,
      fullVersion(entry),
      entry.variant,
      `[${optionList(entry.options)}]`,
    ]);
    const retires = status.staged.retires.map((entry) => [
      '  retire',
      entry.name,
      fullVersion(entry),
      entry.variant,
      `[${optionList(entry.options)}]`,
    ]);
    if (adds.length + retires.length === 0) lines.push('nothing staged');
    else
      lines.push(
        `staged for the next commit (${adds.length} to add, ${retires.length} to retire):`,
        table([...adds, ...retires]),
      );
    return {
      data: status,
      text: lines.join('\n'),
      notes: p.expired
        ? [
            'warning: the published index has expired; clients refuse it. Renew it with "kiln repo commit --allow-empty"',
          ]
        : [],
    };
  },
};

export default command;
