import type { Command } from '../command.js';
import { daemonChange, daemonSocket } from '../daemonSession.js';
import { ADVISORY_OPTIONS, CHANGE_OPTIONS, changeOptions, changeOutput, withPrefix } from '../prefixSession.js';
import { buildFallback, FALLBACK_OPTIONS } from '../buildSettings.js';
import { reportBuild } from './build.js';

const command: Command = {
  words: ['upgrade'],
  summary: 'upgrade installed packages to their newest versions',
  usage:
    'kiln upgrade [NAME...] [--dry-run] [-y] [--allow-advisory ID] [--build never|missing|always] [--recipes DIR] [--distfiles DIR]\nWithout names, every installed package. Run "kiln sync" first. Building as for kiln install.\nExample: kiln upgrade --dry-run',
  options: { ...CHANGE_OPTIONS, ...ADVISORY_OPTIONS, ...FALLBACK_OPTIONS },
  async run(invocation) {
    const names = invocation.positionals.length === 0 ? 'all' : invocation.positionals;
    const socket = daemonSocket(invocation);
    if (socket !== undefined) return daemonChange(invocation, socket, 'upgrade', invocation.positionals);
    return withPrefix(invocation, async (prefix) => {
      const build = buildFallback(invocation, reportBuild(invocation));
      const result = await prefix.upgrade(names, {
        ...changeOptions(invocation),
        ...(build === undefined ? {} : { build }),
      });
      return changeOutput(result, invocation);
    });
  },
};

export default command;
