import { noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';
import { withPrefix } from '../prefixSession.js';
import { bytes, optionList, table, time } from '../render.js';

const command: Command = {
  words: ['info'],
  summary: 'show an installed or available package',
  usage: 'kiln info NAME [--json]\nExample: kiln info nginx',
  options: {},
  async run(invocation) {
    const name = positional(invocation, command, 0, 'NAME');
    noMorePositionals(invocation, command, 1);
    return withPrefix(invocation, async (prefix) => {
      const info = prefix.info(name);
      const lines: string[] = [];
      const pkg = info.installed;
      if (pkg !== null) {
        lines.push(
          `${pkg.name} ${pkg.version} (installed, ${pkg.reason})`,
          table([
            ['  summary', pkg.summary],
            ['  category', pkg.category],
            ['  license', pkg.license],
            ['  homepage', pkg.homepage],
            ['  variant', pkg.variant],
            ['  from', pkg.remote ?? 'a file'],
            ['  installed', `${time(pkg.installedAt)}, ${bytes(pkg.installedSize)} in ${info.files} entries`],
            [
              '  depends',
              pkg.depends.map((dep) => `${dep.name}${dep.range === '' ? '' : ` ${dep.range}`}`).join(', ') || '-',
            ],
            ['  required by', info.requiredBy.join(', ') || '-'],
          ]),
        );
      } else lines.push(`${name} (not installed)`);
      if (info.available.length > 0) {
        lines.push(
          'available:',
          table(
            info.available.map((row) => [
              `  ${row.version}`,
              row.variant,
              `(${row.remote})`,
              `[${optionList(row.options)}]`,
              `${row.target.arch}/${row.target.cpu}/${row.target.libc}-${row.target.libcVersion}`,
              bytes(row.size),
            ]),
          ),
        );
      }
      return { data: info, text: lines.join('\n') };
    });
  },
};

export default command;
