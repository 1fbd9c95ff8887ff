import { readLog, repositoryPaths } from '../../repo/index.js';
import { openRepository } from '../../repo/index.js';
import { noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';
import { count, table, time } from '../render.js';

const command: Command = {
  words: ['repo', 'log'],
  summary: 'list the published commits, newest first',
  usage: 'kiln repo log DIR [--json]\nExample: kiln repo log /srv/binhost',
  options: {},
  async run(invocation) {
    const dir = positional(invocation, command, 0, 'DIR');
    noMorePositionals(invocation, command, 1);
    await openRepository(dir);
    const records = (await readLog(repositoryPaths(dir))).reverse();
    const rows = records.map((record) => [
      `serial ${record.serial}`,
      time(record.time),
      `+${record.added.length} -${record.retired.length}`,
      count(record.packages, 'package'),
      record.message,
    ]);
    return { data: records, text: table([['SERIAL', 'DATE', 'CHANGES', 'PACKAGES', 'MESSAGE'], ...rows]) };
  },
};

export default command;
