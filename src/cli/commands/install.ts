import { existsSync } from 'node:fs';
import { flag } from '../args.js';
import { usageError } from '../args.js';
import type { Command } from '../command.js';
import { ADVISORY_OPTIONS, CHANGE_OPTIONS, changeOptions, changeOutput, withPrefix } from '../prefixSession.js';
import { parseRequest } from '../../solver/index.js';
import { buildFallback, FALLBACK_OPTIONS } from '../buildSettings.js';
import { reportBuild } from './build.js';
import { daemonChange, daemonSocket } from '../daemonSession.js';

const command: Command = {
  words: ['install'],
  summary: 'install packages and what they depend on',
  usage: [
    'kiln install NAME[OPTIONS][RANGE]... | FILE.kpkg... [--dry-run] [-y] [--reinstall] [--allow-unsigned] [--allow-advisory ID]',
    '             [--build never|missing|always] [--recipes DIR] [--distfiles DIR] [--mirror URL] [--work DIR]',
    '',
    'Shows the plan (what is added or upgraded, from which remote, how much to download, and why),',
    'asks, then downloads, verifies and commits it as one transaction. With a ports tree',
    '(--recipes, KILN_RECIPES) or --build missing, what no binary offers is built first, into',
    'the prefix\'s own repository (the remote "local"), and installed from there.',
    'A package file (a path, or a name ending in .kpkg) is installed as a download is: its signature must be',
    'by a key a remote trusts, unless --allow-unsigned; what it depends on comes from the remotes.',
    'Examples: kiln install nginx    kiln install "nginx[+uwsgi]" --build missing    kiln install "zlib>=1.3 <2" -y',
  ].join('\n'),
  options: {
    ...CHANGE_OPTIONS,
    ...ADVISORY_OPTIONS,
    ...FALLBACK_OPTIONS,
    reinstall: { type: 'boolean' },
    'allow-unsigned': { type: 'boolean' },
  },
  async run(invocation) {
    if (invocation.positionals.length === 0) throw usageError(command, 'missing NAME');
    // A package file, as pacman -U takes one: a path to a file, or a name ending in .kpkg.
    const isFile = (arg: string): boolean => arg.endsWith('.kpkg') || (arg.includes('/') && existsSync(arg));
    const files = invocation.positionals.filter(isFile);
    const socket = daemonSocket(invocation);
    if (socket !== undefined) {
      // Through kilnd, a package file is sent as bytes and checked there; it is never installed unsigned.
      if (flag(invocation, 'allow-unsigned'))
        throw usageError(command, '--allow-unsigned is for root: kilnd installs only package files a remote signed');
      const names = invocation.positionals.filter((arg) => !isFile(arg));
      return daemonChange(invocation, socket, 'install', names, {}, { packageFiles: files });
    }
    const requests = invocation.positionals.filter((arg) => !isFile(arg)).map(parseRequest);
    return withPrefix(invocation, async (prefix) => {
      const build = buildFallback(invocation, reportBuild(invocation));
      const result = await prefix.install(requests, {
        ...changeOptions(invocation),
        reinstall: flag(invocation, 'reinstall'),
        files,
        allowUnsigned: flag(invocation, 'allow-unsigned'),
        ...(build === undefined ? {} : { build }),
      });
      return changeOutput(result, invocation);
    });
  },
};

export default command;
