import { KilnError } from '../../errors/index.js';
import { runWorker } from '../../farm/farmWorker.js';
import { flag, integerOption, noMorePositionals, requiredOption, stringOption } from '../args.js';
import { SOURCE_OPTIONS, sourceSettings } from '../buildSettings.js';
import type { Command } from '../command.js';

const command: Command = {
  words: ['worker'],
  summary: "build the build farm's steps: claim, build, upload unsigned",
  usage: [
    'kiln worker --farm URL [--token TOKEN] [--jobs N] [--build-jobs N] [--until-idle]',
    '            [--distfiles DIR]... [--mirror URL]... [--work DIR]',
    '',
    "Talks to the coordinator (kiln serve DIR --farm CATALOG) over HTTP only: offers this machine's architecture, C",
    'library and CPU levels, claims a step, builds the recipe the coordinator sends with build dependencies from its',
    'repository, heartbeats with its load and free disk, sends its log, and uploads the package unsigned; the',
    'coordinator checks, signs and publishes it. The token is the one "kiln farm worker add NAME" printed, from',
    '--token or KILN_WORKER_TOKEN (which keeps it out of the process list). --jobs: steps built at once (1);',
    "--build-jobs: each build's make -j. --until-idle: stop once no step of this machine's target is left to finish.",
    'Ctrl-C or SIGTERM stops it: builds in progress are stopped and reported as failed attempts, to be run again.',
    'Example: kiln worker --farm https://farm.example.org --jobs 2 --distfiles /srv/distfiles',
  ].join('\n'),
  options: {
    distfiles: SOURCE_OPTIONS['distfiles']!,
    mirror: SOURCE_OPTIONS['mirror']!,
    work: SOURCE_OPTIONS['work']!,
    jobs: SOURCE_OPTIONS['jobs']!,
    farm: { type: 'string' },
    token: { type: 'string' },
    'build-jobs': { type: 'string' },
    'until-idle': { type: 'boolean' },
  },
  handlesSignals: true,
  async run(invocation) {
    noMorePositionals(invocation, command, 0);
    const url = requiredOption(invocation, command, 'farm');
    const token = stringOption(invocation, 'token') ?? process.env['KILN_WORKER_TOKEN'];
    if (token === undefined)
      throw new KilnError('E_FARM_TOKEN', 'no worker token given', {
        hint: 'give --token or set KILN_WORKER_TOKEN to what "kiln farm worker add NAME" printed',
      });
    const sources = sourceSettings(invocation);
    const stop = new AbortController();
    const onSignal = (signal: NodeJS.Signals) => {
      invocation.tell(`kiln worker: ${signal}: stopping the builds in progress`);
      stop.abort(new Error(`the worker got ${signal}`));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const buildJobs = integerOption(invocation, command, 'build-jobs', 1, 1024);
    try {
      const summary = await runWorker({
        url,
        token,
        jobs: integerOption(invocation, command, 'jobs', 1, 64) ?? 1,
        ...(buildJobs === undefined ? {} : { buildJobs }),
        workDir: sources.workDir,
        cacheDir: sources.cacheDir,
        distfiles: sources.distfiles,
        mirrors: sources.mirrors,
        untilIdle: flag(invocation, 'until-idle'),
        signal: stop.signal,
        log: (line) => invocation.tell(line),
      });
      return {
        data: summary,
        text: `${summary.built} step(s) built, ${summary.failed} failed`,
        exitCode: stop.signal.aborted ? 130 : 0,
      };
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};

export default command;
