import { mirrorStates } from '../../repo/index.js';
import { noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';
import { table, time } from '../render.js';

const command: Command = {
  words: ['repo', 'mirrors'],
  summary: 'show which serial each mirror serves, read where clients read it, and flag one that lags',
  usage: [
    'kiln repo mirrors DIR [--json]',
    '',
    "Each mirror's signed pointer is read from its url (else its directory) and checked with the repository's keys.",
    'Exit status 1 when a mirror lags behind the repository or cannot be read.',
    'Example: kiln repo mirrors /srv/binhost',
  ].join('\n'),
  options: {},
  async run(invocation) {
    const dir = positional(invocation, command, 0, 'DIR');
    noMorePositionals(invocation, command, 1);
    const state = await mirrorStates(dir);
    const now = invocation.settings.now().getTime();
    const age = (created: string) => {
      const minutes = Math.max(0, Math.round((now - Date.parse(created)) / 60_000));
      return minutes < 120
        ? `${minutes} min`
        : minutes < 2880
          ? `${Math.round(minutes / 60)} h`
          : `${Math.round(minutes / 1440)} d`;
    };
    const rows = state.mirrors.map((mirror) => [
      mirror.mirror,
      mirror.serial === undefined ? '-' : String(mirror.serial),
      mirror.created === undefined ? '-' : `${time(mirror.created)} (${age(mirror.created)} ago)`,
      mirror.problem !== undefined
        ? `UNREADABLE: ${mirror.problem}`
        : mirror.behind! > 0
          ? `LAGS ${mirror.behind} serial${mirror.behind === 1 ? '' : 's'}`
          : mirror.behind! < 0
            ? 'AHEAD of the repository'
            : 'current',
      mirror.source,
    ]);
    const bad = state.mirrors.filter((mirror) => mirror.problem !== undefined || mirror.behind !== 0);
    return {
      data: state,
      text: `repository serial ${state.serial}\n${table([['MIRROR', 'SERIAL', 'PUBLISHED', 'STATE', 'READ FROM'], ...rows])}`,
      notes: state.mirrors.length === 0 ? ['no mirrors are configured'] : [],
      exitCode: bad.length > 0 ? 1 : 0,
    };
  },
};

export default command;
