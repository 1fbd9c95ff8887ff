import { KilnError } from '../../errors/index.js';
import { whyNotRunning } from '../../farm/farmWorkers.js';
import { noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';
import { withCatalog } from '../farmCatalog.js';

const command: Command = {
  words: ['farm', 'why'],
  summary: 'say why a build step is not running, or what it is doing',
  usage: 'kiln farm why STEP [--catalog URL|FILE] [--json]\nExample: kiln farm why 1042',
  options: { catalog: { type: 'string' } },
  async run(invocation) {
    const text = positional(invocation, command, 0, 'STEP');
    noMorePositionals(invocation, command, 1);
    if (!/^[1-9]\d{0,15}$/.test(text))
      throw new KilnError('E_USAGE', `cannot explain step "${text}": a step is a number`, {
        hint: 'kiln farm status lists the steps by state',
      });
    const lines = await withCatalog(invocation, (db) =>
      whyNotRunning(db, Number(text), invocation.settings.now().getTime()),
    );
    return { data: { step: Number(text), why: lines }, text: lines.join('\n') };
  },
};

export default command;
