import { DEFAULT_KEEP, pruneRepository } from '../../repo/index.js';
import { integerOption, noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';
import { bytes } from '../render.js';
import { repositoryLocking } from '../lockWaiting.js';

const command: Command = {
  words: ['repo', 'prune'],
  summary: 'delete old index snapshots and the package files no kept index references',
  usage: [
    `kiln repo prune DIR [--keep N]`,
    '',
    `Keeps the newest N published indexes (default ${DEFAULT_KEEP}) and every package they or the`,
    'stage reference; clients that fetched one of them can still download its packages.',
    'Example: kiln repo prune /srv/binhost --keep 5',
  ].join('\n'),
  options: { keep: { type: 'string' } },
  async run(invocation) {
    const dir = positional(invocation, command, 0, 'DIR');
    noMorePositionals(invocation, command, 1);
    const result = await pruneRepository(
      dir,
      integerOption(invocation, command, 'keep', 1, 1_000_000) ?? DEFAULT_KEEP,
      repositoryLocking(invocation),
    );
    return {
      data: result,
      text: `removed ${result.removedSnapshots.length} index snapshot(s) and ${result.removedFiles.length} package file(s), ${bytes(result.freedBytes)} freed`,
    };
  },
};

export default command;
