import type { AvailableInfo } from '../../install/Prefix.js';
import { noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';
import { withPrefix } from '../prefixSession.js';
import { bytes, optionList, table, time } from '../render.js';

const command: Command = {
  words: ['info'],
  summary: 'show an installed or available package',
  usage: [
    'kiln info NAME [--json]',
    'An installed package: what it is, where it came from, what it needs and what needs it.',
    'An available one (as pacman -Si): summary, license, homepage, dependencies, sonames, the',
    'options of each variant, download and installed size, and the signed index offering it.',
    'Example: kiln info nginx',
  ].join('\n'),
  options: {},
  async run(invocation) {
    const name = positional(invocation, command, 0, 'NAME');
    noMorePositionals(invocation, command, 1);
    return withPrefix(invocation, async (prefix) => {
      const info = await prefix.info(name);
      const lines: string[] = [];
      const pkg = info.installed;
      const newest = info.available[0];
      if (pkg !== null) {
        lines.push(
          `${pkg.name} ${pkg.version} (installed, ${pkg.reason})`,
          fields([
            ['summary', pkg.summary],
            ['category', pkg.category],
            ['license', pkg.license],
            ['homepage', pkg.homepage],
            ['variant', pkg.variant],
            ['from', pkg.remote ?? 'a file'],
            ['installed', `${time(pkg.installedAt)}, ${bytes(pkg.installedSize)} in ${info.files} entries`],
            ['depends', dependencies(pkg.depends)],
            ['required by', info.requiredBy.join(', ') || '-'],
          ]),
        );
      } else if (newest !== undefined) {
        lines.push(`${name} ${newest.version} (not installed)`, fields(details(newest)));
      }
      if (info.available.length > 0) {
        lines.push(
          `available (${info.available.length === 1 ? '1 variant' : `${info.available.length} variants`}):`,
          table([
            ['  VERSION', 'VARIANT', 'REMOTE', 'OPTIONS', 'TARGET', 'DOWNLOAD', 'INSTALLED'],
            ...info.available.map((row) => [
              `  ${row.version}`,
              row.variant,
              row.remote,
              Object.keys(row.options).length === 0 ? '-' : `[${optionList(row.options)}]`,
              `${row.target.arch}/${row.target.cpu}/${row.target.libc}-${row.target.libcVersion}`,
              bytes(row.size),
              bytes(row.installedSize),
            ]),
          ]),
        );
      }
      const advised = info.available.filter((row) => row.advisories.length > 0);
      if (advised.length > 0)
        lines.push(
          'advisories:',
          table(
            advised.flatMap((row) =>
              row.advisories.map((advisory) => [
                `  ${row.version}`,
                row.variant,
                advisory.id,
                advisory.fixed === undefined ? 'no fix named' : `fixed in ${advisory.fixed}`,
                (advisory.summary ?? '').slice(0, 60),
              ]),
            ),
          ),
        );
      return { data: info, text: lines.join('\n') };
    });
  },
};

/** What the index says of the newest available package, field by field. */
function details(row: AvailableInfo): [string, string][] {
  return [
    ['summary', row.summary],
    ['category', row.category],
    ['license', row.license],
    ['homepage', row.homepage || '-'],
    ['depends', dependencies(row.depends)],
    ['provides', row.provides.join(', ') || '-'],
    ['needs', row.needs.join(', ') || '-'],
    ['download', bytes(row.size)],
    ['installed size', bytes(row.installedSize)],
    [
      'index',
      row.index === null
        ? `remote ${row.remote}`
        : `remote ${row.remote}, serial ${row.index.serial}, published ${time(row.index.created)}, expires ${time(row.index.expires)}`,
    ],
    [
      'signed by',
      row.index?.signer != null
        ? `key ${row.index.signer} (the index that pins the package's sha256)`
        : row.index === null || row.index.keyIds.length === 0
          ? '-'
          : `one of ${row.index.keyIds.join(', ')}`,
    ],
  ];
}

function dependencies(depends: readonly { name: string; range: string }[]): string {
  return depends.map((dep) => `${dep.name}${dep.range === '' ? '' : ` ${dep.range}`}`).join(', ') || '-';
}

/** `  name   value` rows, the names aligned. */
function fields(rows: readonly [string, string][]): string {
  return table(rows.map(([label, value]) => [`  ${label}`, value]));
}

export default command;
