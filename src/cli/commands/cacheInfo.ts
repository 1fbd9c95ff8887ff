import { noMorePositionals } from '../args.js';
import type { Command } from '../command.js';
import { withPrefix } from '../prefixSession.js';
import { bytes, count, table } from '../render.js';

const command: Command = {
  words: ['cache', 'info'],
  summary: 'show where the package cache is, what it holds and what a clean would free',
  usage: 'kiln cache info [--json]\nExample: kiln cache info',
  options: {},
  async run(invocation) {
    noMorePositionals(invocation, command, 0);
    return withPrefix(invocation, async (prefix) => {
      const info = await prefix.cacheInfo();
      const packages = info.files.filter((file) => file.name !== null);
      const installed = packages.filter((file) => file.installed);
      const other = info.files.filter((file) => !file.installed);
      const sum = (files: readonly { size: number }[]): number => files.reduce((total, file) => total + file.size, 0);
      const rows: [string, string][] = [
        ['cache', `${info.dir} (${info.shared ? 'shared with other prefixes' : "the prefix's own"})`],
        ['packages', `${count(packages.length, 'file')}, ${bytes(sum(packages))}; ${installed.length} installed here`],
        [
          'clean frees',
          other.length === 0
            ? 'nothing'
            : `${bytes(sum(other))} in ${count(other.length, 'file')} no installed version needs (kiln cache clean)`,
        ],
      ];
      const partial = info.files.filter((file) => file.name === null);
      if (partial.length > 0)
        rows.push([
          'other files',
          `${count(partial.length, 'file')} (partial downloads, damaged), ${bytes(sum(partial))}`,
        ]);
      if (info.unpacked !== null)
        rows.push([
          'unpacked',
          `${count(info.unpacked.entries, 'package')}, ${bytes(info.unpacked.bytes)} in ${info.unpacked.dir}`,
        ]);
      return { data: info, text: table(rows) };
    });
  },
};

export default command;
