/**
 * Reads a request as people type it on the command line: `NAME`,
 * `NAME>=1.2 <2`, `NAME[+uwsgi,-ssl]`, or both (`NAME[+uwsgi] >=1.22`).
 */
import { KilnError } from '../errors/index.js';
import { formatRange, parseRange } from '../version/index.js';
import type { Request } from './types.js';
import { dict } from '../util/dict.js';

export function parseRequest(text: string): Request {
  const match = /^([A-Za-z0-9_][A-Za-z0-9+_.-]*?)(?:\[([^\]]*)\])?\s*((?:[<>=!~].*)?)$/.exec(text.trim());
  if (match === null) {
    throw new KilnError(
      'E_USAGE',
      `cannot read package request "${text}": expected NAME, NAME[+OPTION,-OPTION], each optionally followed by a version range`,
      { hint: 'for example: zlib, "zlib>=1.3", "openssl>=3 <4", "nginx[+uwsgi,-ssl]"' },
    );
  }
  const range = match[3]!.trim();
  const request: Request = { name: match[1]!, range: range === '' ? '' : formatRange(parseRange(range)) };
  if (match[2] !== undefined) {
    const options: Record<string, boolean> = dict();
    for (const item of match[2]
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '')) {
      if (!/^[+-]?[a-z0-9][a-z0-9_-]*$/.test(item)) {
        throw new KilnError('E_USAGE', `cannot read package request "${text}": "${item}" is not an option setting`, {
          hint: 'write options as +NAME to turn on and -NAME to turn off, for example nginx[+uwsgi,-ssl]',
        });
      }
      options[item.replace(/^[+-]/, '')] = !item.startsWith('-');
    }
    request.options = options;
  }
  return request;
}
