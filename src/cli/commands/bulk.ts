import { bulkBuild, formatBulkReport } from '../../build/index.js';
import { flag, integerOption, requiredOption, stringOption, usageError } from '../args.js';
import { SOURCE_OPTIONS, TREE_OPTIONS, acceptLicenses, recipesDir, sourceSettings } from '../buildSettings.js';
import type { Command } from '../command.js';
import { reportBuild } from './build.js';

const command: Command = {
  words: ['bulk'],
  summary: 'build many recipes in dependency order, past failures, with a report',
  usage: [
    'kiln bulk (NAME... | --all) --repo DIR [--accept-licenses ID,...] [--rebuild] [--report-dir DIR] [--workers N]',
    '          [--recipes DIR] [--distfiles DIR]... [--mirror URL]... [--work DIR] [-j N] [--cpu LEVEL]',
    '',
    'Builds the named recipes (or the whole tree) and their build dependencies with default options,',
    'providers first. A failure does not stop the run; its dependents are reported as blocked.',
    'Recipes whose license is not accepted (--accept-licenses, or accept-licenses in ports.toml) are',
    'skipped, and so are their dependents. Versions already in the repository with the same options',
    "are not built again unless --rebuild. The builds run on the build farm's queue in a catalog of the work directory,",
    'by --workers in-process workers (1): a recipe starts once its build dependencies are published.',
    'Writes a text and a JSON report. Exit status 1 on a failure.',
    'Example: kiln bulk --all --repo /srv/binhost --accept-licenses MIT,BSD-2-Clause,Zlib',
  ].join('\n'),
  options: {
    ...TREE_OPTIONS,
    ...SOURCE_OPTIONS,
    repo: { type: 'string' },
    all: { type: 'boolean' },
    'accept-licenses': { type: 'string' },
    rebuild: { type: 'boolean' },
    'report-dir': { type: 'string' },
    cpu: { type: 'string' },
    workers: { type: 'string' },
  },
  async run(invocation) {
    const all = flag(invocation, 'all');
    if (all === invocation.positionals.length > 0)
      throw usageError(command, all ? 'give either --all or recipe names, not both' : 'missing NAME... or --all');
    const report = await bulkBuild(invocation.positionals, {
      recipes: recipesDir(invocation),
      repo: requiredOption(invocation, command, 'repo'),
      ...sourceSettings(invocation),
      cpu: stringOption(invocation, 'cpu'),
      jobs: integerOption(invocation, command, 'jobs', 1, 1024),
      password: invocation.settings.password,
      rebuild: flag(invocation, 'rebuild'),
      workers: integerOption(invocation, command, 'workers', 1, 64) ?? 1,
      ...acceptLicenses(invocation),
      ...(stringOption(invocation, 'report-dir') === undefined
        ? {}
        : { reportDir: stringOption(invocation, 'report-dir') }),
      onEvent: reportBuild(invocation),
      onEntry: (entry, index, total) =>
        invocation.tell(
          `[${index + 1}/${total}] ${entry.recipe}: ${entry.status}${entry.reason === undefined ? '' : ` (${entry.reason})`}`,
        ),
    });
    return {
      data: report,
      text: formatBulkReport(report).trimEnd(),
      notes: [`report: ${report.files.text}, ${report.files.json}`],
      exitCode: report.counts.failed > 0 ? 1 : 0,
    };
  },
};

export default command;
