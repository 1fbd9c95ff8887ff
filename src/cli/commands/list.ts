import { flag, noMorePositionals, usageError } from '../args.js';
import type { Command } from '../command.js';
import { installedViews } from '../../install/installedQuery.js';
import { withInstalled } from '../querySession.js';
import { bytes, table, time } from '../render.js';

const command: Command = {
  words: ['list'],
  summary: 'list installed, available or upgradable packages',
  usage:
    'kiln list [--installed | --available | --upgradable | --orphans] [-q | -v] [--json]\nWithout an option: --installed. --orphans: installed dependencies nothing requested needs\n(as pacman -Qdt; "kiln autoremove" removes them). With -q, names only, one per line (as pacman -Qq);\nwith -v, also the variant, where it came from, when it was installed and its size.\nExample: kiln list --upgradable',
  options: {
    installed: { type: 'boolean' },
    available: { type: 'boolean' },
    upgradable: { type: 'boolean' },
    orphans: { type: 'boolean' },
    quiet: { type: 'boolean', short: 'q' },
    verbose: { type: 'boolean', short: 'v' },
  },
  async run(invocation) {
    noMorePositionals(invocation, command, 0);
    const chosen = (['installed', 'available', 'upgradable', 'orphans'] as const).filter((which) =>
      flag(invocation, which),
    );
    if (chosen.length > 1)
      throw usageError(command, 'give only one of --installed, --available, --upgradable, --orphans');
    const which = chosen[0] ?? 'installed';
    // Installed packages come from the database alone; the others need the synced indexes.
    const rows =
      which === 'installed'
        ? await withInstalled(invocation, installedViews)
        : await (await import('../prefixSession.js')).withPrefix(invocation, async (prefix) =>
            which === 'orphans' ? prefix.orphans() : prefix.list(which),
          );
    const verbose = flag(invocation, 'verbose');
    const cells = rows.map((row) => {
      if ('reason' in row && verbose)
        return [
          row.name,
          row.version,
          row.reason,
          row.variant,
          row.remote ?? 'a file',
          time(row.installedAt),
          bytes(row.installedSize),
          row.summary,
        ];
      if ('reason' in row) return [row.name, row.version, row.reason, row.summary];
      if ('summary' in row && verbose)
        return [row.name, row.version, row.variant, row.remote, row.installed ?? '-', row.summary];
      if ('summary' in row) return [row.name, row.version, row.remote, row.installed ?? '-', row.summary];
      return [row.name, `${row.installed} -> ${row.available}`, row.remote];
    });
    // stdout is data only: the empty answer is said on stderr.
    if (rows.length === 0)
      return { data: rows, text: '', notes: [which === 'orphans' ? 'no orphans' : `no ${which} packages`] };
    if (flag(invocation, 'quiet')) return { data: rows, text: rows.map((row) => row.name).join('\n') };
    const first = rows[0]!;
    const header =
      'reason' in first
        ? verbose
          ? ['NAME', 'VERSION', 'REASON', 'VARIANT', 'FROM', 'INSTALLED', 'SIZE', 'SUMMARY']
          : ['NAME', 'VERSION', 'REASON', 'SUMMARY']
        : 'summary' in first
          ? verbose
            ? ['NAME', 'VERSION', 'VARIANT', 'REMOTE', 'INSTALLED', 'SUMMARY']
            : ['NAME', 'VERSION', 'REMOTE', 'INSTALLED', 'SUMMARY']
          : ['NAME', 'UPGRADE', 'REMOTE'];
    return { data: rows, text: table([header, ...cells]) };
  },
};

export default command;
