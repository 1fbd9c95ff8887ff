import { listAdvisories } from '../../repo/index.js';
import { noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';
import { table } from '../render.js';

const command: Command = {
  words: ['repo', 'advisory', 'list'],
  summary: "list the repository's advisories and their triage",
  usage: ['kiln repo advisory list DIR [--json]', '', 'Example: kiln repo advisory list /srv/binhost'].join('\n'),
  options: {},
  async run(invocation) {
    const dir = positional(invocation, command, 0, 'DIR');
    noMorePositionals(invocation, command, 1);
    const listing = await listAdvisories(dir);
    const rows = listing.advisories.map((advisory) => [
      advisory.id,
      [...new Set(advisory.affected.map((item) => item.package.name))].join(' '),
      advisory.withdrawn === undefined ? '' : 'withdrawn',
      (advisory.summary ?? '').slice(0, 60),
    ]);
    const triage = listing.triage.map((record) => [
      record.advisory,
      record.name,
      record.versions === '' ? 'every version' : record.versions,
      record.variant === '' ? 'every variant' : record.variant,
      record.status,
      record.justification,
    ]);
    return {
      data: listing,
      text: [
        table([['ADVISORY', 'NAMES', 'STATE', 'SUMMARY'], ...rows]),
        ...(triage.length === 0
          ? []
          : ['', table([['TRIAGE', 'NAME', 'VERSIONS', 'VARIANT', 'STATUS', 'WHY'], ...triage])]),
      ].join('\n'),
      notes: [
        listing.advisories.length === 0
          ? 'no advisories'
          : listing.published
            ? 'published as they are'
            : 'changed since the last commit: "kiln repo commit" publishes them',
      ],
    };
  },
};

export default command;
