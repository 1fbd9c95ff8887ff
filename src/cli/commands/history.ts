import { integerOption, noMorePositionals } from '../args.js';
import type { Command } from '../command.js';
import { withPrefix } from '../prefixSession.js';
import { table } from '../render.js';

const command: Command = {
  words: ['history'],
  summary: 'list the transactions committed in the prefix',
  usage: 'kiln history [--limit N] [--json]\nExample: kiln history --limit 5',
  options: { limit: { type: 'string' } },
  async run(invocation) {
    noMorePositionals(invocation, command, 0);
    const limit = integerOption(invocation, command, 'limit', 1, 100000) ?? 20;
    return withPrefix(invocation, async (prefix) => {
      const rows = prefix.history(limit);
      return { data: rows, text: rows.length === 0 ? 'no transactions yet' : table(rows.map((row) => [row.finishedAt, row.command, row.summary])) };
    });
  },
};

export default command;
