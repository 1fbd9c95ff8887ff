import type { TriageStatus } from '../../advisory/index.js';
import { TRIAGE_STATUSES } from '../../advisory/index.js';
import { clearTriage, triageAdvisory } from '../../repo/index.js';
import { shellQuote } from '../../util/shellQuote.js';
import { flag, noMorePositionals, positional, stringOption, usageError } from '../args.js';
import type { Command } from '../command.js';
import { repositoryLocking } from '../lockWaiting.js';

const command: Command = {
  words: ['repo', 'advisory', 'triage'],
  summary: "record what an advisory means for this repository's packages (affected, fixed, not affected and why)",
  usage: [
    'kiln repo advisory triage DIR ID NAME --status affected|fixed|not-affected [--versions RANGE] [--variant ID]',
    '                          [--justification TEXT]',
    'kiln repo advisory triage DIR ID NAME --clear',
    '',
    'Says, for the packages NAME of the versions in RANGE (every version when absent) and of one variant (every',
    'variant when absent), that advisory ID affects them, is fixed in them (a patch the build applies), or does',
    'not affect them (--justification says why: "the mp4 module is not built"). --clear forgets what was said.',
    'The next "kiln repo commit" publishes it.',
    'Example: kiln repo advisory triage /srv/binhost CVE-2023-45853 zlib --status not-affected --justification "minizip is not built"',
  ].join('\n'),
  options: {
    status: { type: 'string' },
    versions: { type: 'string' },
    variant: { type: 'string' },
    justification: { type: 'string' },
    clear: { type: 'boolean' },
  },
  async run(invocation) {
    const dir = positional(invocation, command, 0, 'DIR');
    const id = positional(invocation, command, 1, 'ID');
    const name = positional(invocation, command, 2, 'NAME');
    noMorePositionals(invocation, command, 3);
    if (flag(invocation, 'clear')) {
      const cleared = await clearTriage(dir, id, name, repositoryLocking(invocation));
      return { data: { advisory: id, name, cleared }, text: `forgot ${cleared} triage record(s) of ${id} for ${name}` };
    }
    const status = stringOption(invocation, 'status');
    if (status === undefined || !(TRIAGE_STATUSES as readonly string[]).includes(status))
      throw usageError(command, `--status is one of ${TRIAGE_STATUSES.join(', ')}`);
    const record = {
      advisory: id,
      name,
      versions: stringOption(invocation, 'versions') ?? '',
      variant: stringOption(invocation, 'variant') ?? '',
      status: status as TriageStatus,
      justification: stringOption(invocation, 'justification') ?? '',
    };
    const { replaced } = await triageAdvisory(dir, record, repositoryLocking(invocation));
    return {
      data: { ...record, replaced },
      text: `${id} for ${name}${record.versions === '' ? '' : ` ${record.versions}`}${record.variant === '' ? '' : ` (variant ${record.variant})`}: ${status}${replaced ? ' (replaces what was said)' : ''}`,
      notes: [`publish it with "kiln repo commit ${shellQuote(dir)}"`],
    };
  },
};

export default command;
