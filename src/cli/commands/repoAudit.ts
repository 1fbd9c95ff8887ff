import { fullVersion } from '../../format/index.js';
import { auditRepository } from '../../repo/index.js';
import { noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';
import { table } from '../render.js';

const command: Command = {
  words: ['repo', 'audit'],
  summary: 'list the published packages that an open advisory affects',
  usage: [
    'kiln repo audit DIR [--json]',
    '',
    "Matches every published package file (name, version, revision and variant options) with the repository's",
    'advisories and triage as they stand (published or not). Exit status 1 when a package is affected.',
    'Example: kiln repo audit /srv/binhost',
  ].join('\n'),
  options: {},
  async run(invocation) {
    const dir = positional(invocation, command, 0, 'DIR');
    noMorePositionals(invocation, command, 1);
    const audit = await auditRepository(dir);
    const rows = audit.affected.flatMap(({ entry, findings }) =>
      findings.map((finding) => [
        entry.name,
        fullVersion(entry),
        entry.variant,
        finding.advisory.id,
        finding.fixed ?? '-',
        (finding.advisory.summary ?? '').slice(0, 50),
      ]),
    );
    return {
      data: {
        serial: audit.serial,
        affected: audit.affected.map(({ entry, findings }) => ({
          name: entry.name,
          version: fullVersion(entry),
          variant: entry.variant,
          path: entry.path,
          advisories: findings.map((finding) => ({ id: finding.advisory.id, fixed: finding.fixed ?? null })),
        })),
      },
      text: table([['NAME', 'VERSION', 'VARIANT', 'ADVISORY', 'FIXED IN', 'SUMMARY'], ...rows]),
      notes: [
        rows.length === 0
          ? `no published package of serial ${audit.serial} is affected`
          : `${audit.affected.length} package file(s) affected`,
      ],
      exitCode: rows.length > 0 ? 1 : 0,
    };
  },
};

export default command;
