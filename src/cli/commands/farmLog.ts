import { KilnError } from '../../errors/index.js';
import { FarmQueue } from '../../farm/farmQueue.js';
import { noMorePositionals, positional, stringOption } from '../args.js';
import type { Command } from '../command.js';
import { withCatalog } from '../farmCatalog.js';

const command: Command = {
  words: ['farm', 'log'],
  summary: "print a build step's log, as its worker sent it",
  usage: [
    'kiln farm log STEP [--attempt N] [--catalog URL|FILE] [--json]',
    "The log of the step's latest attempt, or of attempt N: what the worker streamed while it built,",
    'up to 16 MiB an attempt. A running step shows what has arrived so far.',
    'Example: kiln farm log 1042 --attempt 1',
  ].join('\n'),
  options: { catalog: { type: 'string' }, attempt: { type: 'string' } },
  async run(invocation) {
    const text = positional(invocation, command, 0, 'STEP');
    noMorePositionals(invocation, command, 1);
    const attemptText = stringOption(invocation, 'attempt');
    for (const [what, value] of [
      ['step', text],
      ['attempt', attemptText],
    ] as const)
      if (value !== undefined && !/^[1-9]\d{0,8}$/.test(value))
        throw new KilnError('E_USAGE', `cannot show a build log: ${what} "${value}" is not a number`, {
          hint: 'kiln farm status lists the steps by state; kiln farm why STEP says which attempt it is on',
        });
    const step = Number(text);
    const attempt = attemptText === undefined ? undefined : Number(attemptText);
    const log = await withCatalog(invocation, (db) => new FarmQueue(db).log(step, attempt));
    if (log === '')
      throw new KilnError(
        'E_USAGE',
        `no log of build step ${step}${attempt === undefined ? '' : ` attempt ${attempt}`} in the catalog`,
        { hint: 'a step has a log once a worker has claimed it; kiln farm why STEP says where it is' },
      );
    return { data: { step, attempt: attempt ?? null, log }, text: log.replace(/\n$/, '') };
  },
};

export default command;
