import { readFile } from 'node:fs/promises';
import type { Advisory } from '../../advisory/index.js';
import { checkAdvisory, importPkgsrc } from '../../advisory/index.js';
import { KilnError, isErrno } from '../../errors/index.js';
import { addAdvisories } from '../../repo/index.js';
import { shellQuote } from '../../util/shellQuote.js';
import { positional, stringOption, usageError } from '../args.js';
import type { Command, Invocation } from '../command.js';
import { repositoryLocking } from '../lockWaiting.js';
import { count, table } from '../render.js';

/** Read FILE: OSV JSON (one record or a list of them) or, for import, pkgsrc's pkg-vulnerabilities text. */
async function readAdvisories(path: string, format: 'osv' | 'pkgsrc' | 'auto', now: Date): Promise<Advisory[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT'))
      throw new KilnError('E_IO', `cannot read advisory file ${path}: it does not exist`, { hint: 'check the path' });
    throw error;
  }
  const looksJson = /^\s*[[{]/.test(text);
  if (format === 'pkgsrc' || (format === 'auto' && !looksJson)) return importPkgsrc(text, path, now);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new KilnError(
      'E_ADVISORY_FORMAT',
      `cannot read advisory ${path}: it is not valid JSON (${(error as Error).message})`,
      {
        hint: "give an OSV record (or a list of them) in JSON, or pkgsrc's pkg-vulnerabilities with --format pkgsrc",
      },
    );
  }
  const items = Array.isArray(json) ? json : [json];
  return items.map((item, i) => checkAdvisory(item, Array.isArray(json) ? `${path}[${i}]` : path));
}

/** `add` and `import`: the same but for what they read. */
export function advisoryAdder(words: string[], summary: string, usage: string, imports: boolean): Command {
  const command: Command = {
    words,
    summary,
    usage,
    options: imports ? { format: { type: 'string' } } : {},
    async run(invocation: Invocation) {
      const dir = positional(invocation, command, 0, 'DIR');
      const files = invocation.positionals.slice(1);
      if (files.length === 0) throw usageError(command, 'missing FILE');
      const format = (imports ? stringOption(invocation, 'format') : 'osv') ?? 'auto';
      if (format !== 'osv' && format !== 'pkgsrc' && format !== 'auto')
        throw usageError(command, `--format is osv or pkgsrc, not "${format}"`);
      const advisories: Advisory[] = [];
      // Every file is read and checked before anything changes.
      for (const file of files) advisories.push(...(await readAdvisories(file, format, invocation.settings.now())));
      const changes = await addAdvisories(dir, advisories, repositoryLocking(invocation));
      return {
        data: changes,
        text: table(changes.map((change) => [change.replaced ? 'replaced' : 'added', change.id])),
        notes: [
          `${count(changes.length, 'advisory', 'advisories')} ready; publish with "kiln repo commit ${shellQuote(dir)}"`,
        ],
      };
    },
  };
  return command;
}

export default advisoryAdder(
  ['repo', 'advisory', 'add'],
  'add OSV advisories (or replace them, by id) for the next commit to publish',
  [
    'kiln repo advisory add DIR FILE...',
    '',
    'Each FILE is an OSV record in JSON, or a list of them, with Kiln versions in "affected" and, where the',
    'flaw is only in some variants, the options that have it in ecosystem_specific.options. All files are',
    'checked before any is added; the next "kiln repo commit" publishes them, signed with the index.',
    'Example: kiln repo advisory add /srv/binhost CVE-2023-44487.json',
  ].join('\n'),
  false,
);
