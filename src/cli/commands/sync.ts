import { usageError } from '../args.js';
import type { Command, CommandOutput } from '../command.js';
import type { Prefix } from '../../install/index.js';
import { daemonChange, daemonSocket } from '../daemonSession.js';
import { withPrefix } from '../prefixSession.js';
import { count, table, time } from '../render.js';

const command: Command = {
  words: ['sync'],
  summary: "download and verify every remote's index",
  usage: [
    'kiln sync [REMOTE...]',
    '',
    'Refuses an index that is not signed by a trusted key of its remote, one older than the last',
    'accepted (rollback), and one that has expired (freeze); the previous index stays in use.',
    'A remote with mirrors (remote add --mirror) is synced from the first of its URLs that gives an acceptable index.',
    'Example: kiln sync main',
  ].join('\n'),
  options: {},
  async run(invocation) {
    const socket = daemonSocket(invocation);
    if (socket !== undefined) {
      if (invocation.positionals.length > 1) throw usageError(command, 'through kilnd, sync one remote or all of them');
      return daemonChange(
        invocation,
        socket,
        'sync',
        [],
        { ...(invocation.positionals[0] === undefined ? {} : { remote: invocation.positionals[0] }) },
        { render: (results) => syncOutput(results as Awaited<ReturnType<Prefix['syncEach']>>) },
      );
    }
    return withPrefix(invocation, async (prefix) => syncOutput(await prefix.syncEach(invocation.positionals)));
  },
};

/** Every remote named with how it went; a failure keeps its own message and hint, and makes the exit status 1. */
function syncOutput(results: Awaited<ReturnType<Prefix['syncEach']>>): CommandOutput {
  const rows = results.map((r) =>
    r.status === 'failed'
      ? [r.remote, 'FAILED', r.code]
      : [
          r.remote,
          r.status,
          `serial ${r.previousSerial === null || r.previousSerial === r.serial ? r.serial : `${r.previousSerial} -> ${r.serial}`}`,
          count(r.packages, 'package'),
          `expires ${time(r.expires)}`,
        ],
  );
  const failures = results.filter((r) => r.status === 'failed');
  // A mirror passed over is said, with why; the remote synced from the next one.
  const passedOver = results.flatMap((r) =>
    r.status === 'failed'
      ? []
      : r.skipped.map(
          (skip) => `note: remote ${r.remote}: passed over ${skip.url} (${skip.problem}); synced from ${r.url}`,
        ),
  );
  const rotations = results.flatMap((r) =>
    r.status === 'failed' || r.rotated === undefined
      ? []
      : [
          `note: remote ${r.remote} rotated its keys: key root ${r.rotated.from} -> ${r.rotated.to}, each signed by the keys before it; trusted now: ${r.rotated.keys.join(', ')}`,
        ],
  );
  const notes = [
    ...rotations,
    ...passedOver,
    ...failures.map((r) => `kiln: error[${r.code}]: ${r.message}${r.hint === undefined ? '' : `\nhint: ${r.hint}`}`),
  ];
  return { data: results, text: table(rows), notes, ...(failures.length > 0 ? { exitCode: 1 } : {}) };
}

export default command;
