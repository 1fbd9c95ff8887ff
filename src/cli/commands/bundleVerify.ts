import { verifyBundle } from '../../bundle/index.js';
import { noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';
import { table } from '../render.js';

const command: Command = {
  words: ['bundle', 'verify'],
  summary: 'check an unpacked bundle against its manifest',
  usage: [
    'kiln bundle verify DIR',
    '',
    'Checks every file of the bundle unpacked into DIR against .kiln-bundle/manifest.json: type, owner',
    "permissions, link target and content (a relocated file after putting back the bundle's placeholder);",
    'exit status 1 if any differs. On a host without Kiln, DIR/bin/kiln-relocate --verify does the same.',
    'Example: kiln bundle verify ~/apps/nginx',
  ].join('\n'),
  options: {},
  async run(invocation) {
    const dir = positional(invocation, command, 0, 'DIR');
    noMorePositionals(invocation, command, 1);
    const report = verifyBundle(dir);
    const rows = report.problems.map((p) => [
      p.problem,
      p.path,
      p.expected === undefined ? '' : `expected ${p.expected}${p.actual === undefined ? '' : `, found ${p.actual}`}`,
    ]);
    const lines = rows.length === 0 ? [] : [table(rows)];
    lines.push(
      report.problems.length === 0
        ? `ok: ${report.checked} entries match the manifest; the files name ${report.prefix}`
        : `${report.problems.length} problem(s) in ${report.checked} entries checked`,
    );
    if (report.moving !== null)
      lines.push(`note: a relocation to ${report.moving} was not finished; run kiln-relocate again`);
    return { data: report, text: lines.join('\n'), exitCode: report.problems.length === 0 ? 0 : 1 };
  },
};

export default command;
