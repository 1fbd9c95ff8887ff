import { noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';
import { searchPackages } from '../querySession.js';
import { table } from '../render.js';

const command: Command = {
  words: ['search'],
  summary: 'search available and installed packages by name and summary',
  usage: 'kiln search TERM [--json]\nExample: kiln search compress',
  options: {},
  async run(invocation) {
    const term = positional(invocation, command, 0, 'TERM', true);
    noMorePositionals(invocation, command, 1);
    const rows = await searchPackages(invocation, term);
    const text =
      rows.length === 0
        ? `no package matches "${term}"`
        : table(
            rows.map((row) => [
              row.name,
              row.version,
              row.remote === '' ? '' : `(${row.remote})`,
              row.installed === null ? '' : `[installed ${row.installed}]`,
              row.summary,
            ]),
          );
    return { data: rows, text, exitCode: rows.length === 0 ? 1 : 0 };
  },
};

export default command;
