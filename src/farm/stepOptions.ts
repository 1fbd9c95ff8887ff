/**
 * A build step's options, as the catalog keeps them: what it turns on and off
 * against its recipe's defaults, written `+NAME,-NAME` in name order (empty:
 * the defaults). `kiln farm submit "nginx[+uwsgi,-ssl]"` asks for them; the
 * worker builds with them, and the coordinator checks the upload against them.
 */
import { KilnError } from '../errors/index.js';
import { formatSettings } from '../solver/problem.js';

export interface OptionFlips {
  enable: string[];
  disable: string[];
}

const OPTION = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** `{uwsgi: true, ssl: false}` as `-ssl,+uwsgi` (sorted by name): the solver's notation, one text for the same flips. */
export const formatStepOptions = formatSettings;

/** `+uwsgi,-ssl` as the options to turn on and off; a malformed text is E_FARM_PROTOCOL (it came from the catalog). */
export function parseStepOptions(text: string): OptionFlips {
  const flips: OptionFlips = { enable: [], disable: [] };
  if (text === '') return flips;
  for (const item of text.split(',')) {
    const name = item.slice(1);
    if ((item[0] !== '+' && item[0] !== '-') || !OPTION.test(name))
      throw new KilnError('E_FARM_PROTOCOL', `a build step's options are malformed: ${JSON.stringify(text)}`, {
        hint: 'options are +NAME or -NAME, separated by commas',
      });
    (item[0] === '+' ? flips.enable : flips.disable).push(name);
  }
  return flips;
}
