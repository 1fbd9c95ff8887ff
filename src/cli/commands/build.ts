import type { BuildEvent } from '../../build/index.js';
import { buildPackage, formatOptions } from '../../build/index.js';
import { integerOption, listOption, noMorePositionals, positional, requiredOption, stringOption } from '../args.js';
import { SOURCE_OPTIONS, TREE_OPTIONS, recipesDir, sourceSettings } from '../buildSettings.js';
import type { Command, Invocation } from '../command.js';
import { table } from '../render.js';

const command: Command = {
  words: ['build'],
  summary: 'build a recipe into a signed package in a repository',
  usage: [
    'kiln build CATEGORY/NAME --repo DIR [--with OPT,...] [--without OPT,...] [--cpu LEVEL]',
    '           [--recipes DIR] [--distfiles DIR]... [--mirror URL]... [--work DIR] [-j N] [--keep]',
    '',
    'Fetches the sources (upstream URL, mirrors, then distfiles directories; sha256 always checked),',
    'installs the build dependencies from the repository (building missing ones first), runs the',
    "recipe's build script, makes run paths $ORIGIN-relative, checks every needed library, packs,",
    "signs with the repository's key and publishes. --cpu: x86-64, x86-64-v2, x86-64-v3, x86-64-v4.",
    'Example: kiln build www-servers/nginx --with uwsgi --repo /srv/binhost --distfiles /srv/distfiles',
  ].join('\n'),
  options: {
    ...TREE_OPTIONS,
    ...SOURCE_OPTIONS,
    repo: { type: 'string' },
    with: { type: 'string', multiple: true },
    without: { type: 'string', multiple: true },
    cpu: { type: 'string' },
  },
  async run(invocation) {
    const recipe = positional(invocation, command, 0, 'CATEGORY/NAME');
    noMorePositionals(invocation, command, 1);
    const sources = sourceSettings(invocation);
    const results = await buildPackage(
      { recipe, enable: optionNames(invocation, 'with'), disable: optionNames(invocation, 'without') },
      {
        recipes: recipesDir(invocation),
        repo: requiredOption(invocation, command, 'repo'),
        ...sources,
        cpu: stringOption(invocation, 'cpu'),
        jobs: integerOption(invocation, command, 'jobs', 1, 1024),
        password: invocation.settings.password,
        onEvent: reportBuild(invocation),
      },
    );
    return {
      data: results,
      text: table(
        results.map((result) => [
          result.recipe,
          result.version,
          `[${formatOptions(result.options)}]`,
          result.variant,
          `glibc>=${result.libcVersion}`,
          `${result.seconds.toFixed(1)} s`,
        ]),
      ),
      notes: results.map((result) => `${result.name}: ${result.package}\n  log: ${result.log}`),
    };
  },
};

/** `--with a,b --with c` → ['a', 'b', 'c']. */
export function optionNames(invocation: Invocation, name: string): string[] {
  return listOption(invocation, name)
    .flatMap((item) => item.split(','))
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Progress of builds for people: one line per step on stderr. */
export function reportBuild(invocation: Invocation): (event: BuildEvent) => void {
  return (event) => {
    if (event.kind === 'start')
      invocation.tell(`building ${event.recipe} ${event.version} [${formatOptions(event.options)}] (${event.reason})`);
    else if (event.kind === 'step')
      invocation.progress(
        `  ${event.recipe}: ${event.step}${event.detail === undefined || event.detail === '' ? '' : ` ${event.detail}`}`,
      );
    else if (event.kind === 'fetch' && event.event.kind === 'fetched')
      invocation.progress(`  ${event.recipe}: fetched ${event.event.file}`);
    else if (event.kind === 'cleaned')
      invocation.tell(`removed ${event.workTrees.length} work tree(s) of interrupted builds`);
    else if (event.kind === 'done') {
      invocation.progress(null);
      invocation.tell(
        `built ${event.recipe} ${event.result.version} in ${event.result.seconds.toFixed(1)} s: ${event.result.package.split('/').pop()}`,
      );
    }
  };
}

export default command;
