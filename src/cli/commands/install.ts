import { flag } from '../args.js';
import { usageError } from '../args.js';
import type { Command } from '../command.js';
import { CHANGE_OPTIONS, changeOptions, changeOutput, withPrefix } from '../prefixSession.js';
import { parseRequest } from '../../solver/index.js';
import { buildFallback, FALLBACK_OPTIONS } from '../buildSettings.js';
import { reportBuild } from './build.js';

const command: Command = {
  words: ['install'],
  summary: 'install packages and what they depend on',
  usage: [
    'kiln install NAME[OPTIONS][RANGE]... [--dry-run] [-y] [--reinstall]',
    '             [--build never|missing|always] [--recipes DIR] [--distfiles DIR] [--mirror URL] [--work DIR]',
    '',
    'Shows the plan (what is added or upgraded, from which remote, how much to download, and why),',
    'asks, then downloads, verifies and commits it as one transaction. With a ports tree',
    '(--recipes, KILN_RECIPES) or --build missing, what no binary offers is built first, into',
    'the prefix\'s own repository (the remote "local"), and installed from there.',
    'Examples: kiln install nginx    kiln install "nginx[+uwsgi]" --build missing    kiln install "zlib>=1.3 <2" -y',
  ].join('\n'),
  options: { ...CHANGE_OPTIONS, ...FALLBACK_OPTIONS, reinstall: { type: 'boolean' } },
  async run(invocation) {
    if (invocation.positionals.length === 0) throw usageError(command, 'missing NAME');
    const requests = invocation.positionals.map(parseRequest);
    return withPrefix(invocation, async (prefix) => {
      const build = buildFallback(invocation, reportBuild(invocation));
      const result = await prefix.install(requests, {
        ...changeOptions(invocation),
        reinstall: flag(invocation, 'reinstall'),
        ...(build === undefined ? {} : { build }),
      });
      return changeOutput(result, invocation);
    });
  },
};

export default command;
