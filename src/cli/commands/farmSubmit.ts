import { submitRecipes } from '../../farm/submitRecipes.js';
import { detectHost, parseRequest } from '../../solver/index.js';
import { defaultCpu } from '../../build/index.js';
import { flag, integerOption, stringOption, usageError } from '../args.js';
import { TREE_OPTIONS, acceptLicenses, recipesDir } from '../buildSettings.js';
import type { Command } from '../command.js';
import { withCatalog } from '../farmCatalog.js';

const command: Command = {
  words: ['farm', 'submit'],
  summary: "submit recipes and their build dependencies to the build farm's queue",
  usage: [
    'kiln farm submit (NAME[OPTIONS]... | --all) [--recipes DIR] [--repo DIR] [--catalog URL|FILE] [--cpu LEVEL] [--arch ARCH]',
    '                 [--libc LIBC] [--submitter NAME] [--priority N] [--attempts N] [--accept-licenses ID,...] [--note TEXT]',
    '',
    'One build: a step per recipe asked for, with the options asked for ("nginx[+uwsgi,-ssl]") or its defaults, and per',
    'build dependency it needs (default options), each waiting for the steps that build its build dependencies. The',
    "target defaults to this machine (architecture, C library) and the architecture's baseline CPU level. With --repo,",
    'recipes already published there for the target (same version and options) are not built again.',
    'Workers build the steps (kiln worker); kiln farm status and kiln farm why follow them.',
    'Example: kiln farm submit --all --repo /srv/binhost --catalog postgresql://farm@db/kiln --cpu x86-64-v3',
  ].join('\n'),
  options: {
    ...TREE_OPTIONS,
    catalog: { type: 'string' },
    all: { type: 'boolean' },
    repo: { type: 'string' },
    cpu: { type: 'string' },
    arch: { type: 'string' },
    libc: { type: 'string' },
    submitter: { type: 'string' },
    priority: { type: 'string' },
    attempts: { type: 'string' },
    'accept-licenses': { type: 'string' },
    note: { type: 'string' },
  },
  async run(invocation) {
    const all = flag(invocation, 'all');
    if (all === invocation.positionals.length > 0)
      throw usageError(command, all ? 'give either --all or recipe names, not both' : 'missing NAME... or --all');
    const host = detectHost();
    const arch = stringOption(invocation, 'arch') ?? host.arch;
    const priority = integerOption(invocation, command, 'priority', 0, 1000);
    const attempts = integerOption(invocation, command, 'attempts', 1, 100);
    const repo = stringOption(invocation, 'repo');
    const note = stringOption(invocation, 'note');
    // NAME[+OPTION,-OPTION]: the options a step builds with; no version range (the tree has one version of a recipe).
    const optionsFor = new Map<string, Record<string, boolean>>();
    const ids = invocation.positionals.map((text) => {
      const request = parseRequest(text);
      if (request.range !== '')
        throw usageError(command, `"${text}": a recipe is named with its options, not a version range`);
      if (request.options !== undefined) optionsFor.set(request.name, request.options);
      return request.name;
    });
    const result = await withCatalog(invocation, (db) =>
      submitRecipes(db, {
        recipes: recipesDir(invocation),
        ids,
        optionsFor,
        arch,
        libc: stringOption(invocation, 'libc') ?? host.libc,
        cpuLevel: stringOption(invocation, 'cpu') ?? defaultCpu(arch),
        submitter: stringOption(invocation, 'submitter') ?? process.env['USER'] ?? 'kiln',
        now: invocation.settings.now().getTime(),
        ...(priority === undefined ? {} : { priority }),
        ...(attempts === undefined ? {} : { maxAttempts: attempts }),
        ...(repo === undefined ? {} : { repo }),
        ...(note === undefined ? {} : { note }),
        ...acceptLicenses(invocation),
      }),
    );
    const lines = result.steps.map(
      (step) =>
        `step ${step.id}: ${step.package}${step.options === '' ? '' : `[${step.options}]`} ${step.version}${step.dependsOn.length === 0 ? '' : ` (after ${step.dependsOn.join(', ')})`}`,
    );
    for (const skip of result.skipped) lines.push(`left out: ${skip.package}: ${skip.reason}`);
    return {
      data: result,
      text: lines.join('\n'),
      notes: [
        result.buildId === null
          ? 'nothing to build: every recipe asked for is published or left out'
          : `build ${result.buildId} submitted: ${result.steps.length} step(s)`,
      ],
    };
  },
};

export default command;
