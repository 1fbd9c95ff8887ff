import { shellQuote } from '../../util/shellQuote.js';
import { noMorePositionals } from '../args.js';
import type { Command } from '../command.js';
import { withPrefix } from '../prefixSession.js';
import { table } from '../render.js';

const command: Command = {
  words: ['audit'],
  summary: 'list installed packages that open security advisories affect, and how to upgrade',
  usage: [
    'kiln audit [--json]',
    '',
    'Matches each installed package (name, version, revision and variant options) with the signed advisories of',
    'the remote it came from, as last synced ("kiln sync" first), and names the version that fixes it and the',
    'command that upgrades to it. Exit status 1 when a package is affected (pkg_admin audit, npm audit).',
    'Example: kiln sync && kiln audit',
  ].join('\n'),
  options: {},
  async run(invocation) {
    noMorePositionals(invocation, command, 0);
    return withPrefix(invocation, async (prefix) => {
      const findings = await prefix.audit();
      const rows = findings.map((finding) => [
        finding.name,
        finding.version,
        finding.advisory,
        finding.fixed ?? '-',
        finding.upgradeTo === null ? 'no fixed version on offer yet' : `kiln upgrade ${shellQuote(finding.name)}`,
        finding.summary.slice(0, 50),
      ]);
      return {
        data: findings,
        text: table([['NAME', 'VERSION', 'ADVISORY', 'FIXED IN', 'FIX', 'SUMMARY'], ...rows]),
        notes: [
          findings.length === 0
            ? 'no installed package is affected by an advisory its remote publishes'
            : `${new Set(findings.map((finding) => finding.name)).size} installed package(s) affected`,
        ],
        exitCode: findings.length > 0 ? 1 : 0,
      };
    });
  },
};

export default command;
