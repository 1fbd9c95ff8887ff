import { startDaemon } from '../../daemon/kilnd.js';
import { socketPathOf } from '../../daemon/protocol.js';
import { noMorePositionals, stringOption } from '../args.js';
import type { Command } from '../command.js';
import { policyPath } from './policyCheck.js';

const command: Command = {
  words: ['daemon'],
  summary: 'kilnd: change the prefix for users who are not root, as its policy allows (runs in the foreground)',
  usage: [
    'kiln daemon [--prefix DIR] [--socket PATH] [--policy FILE]',
    'Run by root for the system prefix (/ by default). Listens on PREFIX/run/kiln/kilnd.sock (/run/kiln/kilnd.sock),',
    "identifies each caller by the kernel's record of the connection (SO_PEERCRED), and runs what the policy",
    '(PREFIX/etc/kiln/policy.toml) allows as activities, one at a time, each one transaction. Logs every decision on',
    'stderr. Ctrl-C or SIGTERM stops it; an activity it was running is reported failed or completed when it starts',
    'again. docs/kilnd.md has the systemd unit.',
    'Example: kiln daemon --prefix /',
  ].join('\n'),
  options: { socket: { type: 'string' }, policy: { type: 'string' } },
  handlesSignals: true,
  async run(invocation) {
    noMorePositionals(invocation, command, 0);
    const prefix = invocation.settings.prefix;
    const daemon = await startDaemon({
      prefix,
      socket: stringOption(invocation, 'socket') ?? socketPathOf(prefix),
      policy: stringOption(invocation, 'policy') ?? policyPath(prefix),
      log: (line) => invocation.tell(line),
    });
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    invocation.tell(`kilnd: ${signal}: stopping`);
    await daemon.close();
    return { data: { stoppedBy: signal }, notes: ['stopped'] };
  },
};

export default command;
