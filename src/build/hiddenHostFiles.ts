/**
 * Why a sandboxed build failed, when the reason is the sandbox: the log
 * shows a header, library or pkg-config module not found, and the build
 * host has it. That is a host file the build would have used without being
 * given it — the leak the sandbox exists to stop — so the message names it
 * and says which build dependency to add.
 */
import { findOnHost, HOST_HEADER_DIRS, HOST_LIBRARY_DIRS, HOST_PKGCONFIG_DIRS } from './hostFiles.js';

/** Something a build looked for in vain that the host has. */
export interface HiddenHostFile {
  kind: 'header' | 'library' | 'pkg-config module';
  /** As the build asked for it: `zlib.h`, `-lz`, `-l:libz.a`, `zlib`. */
  asked: string;
  /** Where the host has it. */
  hostPath: string;
}

/** Where the host has a file of a kind, by name; undefined when it has none. */
export type HostLocator = (kind: HiddenHostFile['kind'], names: readonly string[]) => string | undefined;

const locateOnHost: HostLocator = (kind, names) => {
  const dirs = kind === 'header' ? HOST_HEADER_DIRS : kind === 'library' ? HOST_LIBRARY_DIRS : HOST_PKGCONFIG_DIRS;
  for (const name of names) {
    const found = findOnHost(name, dirs);
    if (found !== undefined) return found;
  }
  return undefined;
};

/** The messages of gcc, GNU ld and pkg-config (pkgconf) for what they did not find. */
const NOT_FOUND: readonly {
  pattern: RegExp;
  kind: HiddenHostFile['kind'];
  names: (match: RegExpExecArray) => { asked: string; files: string[] };
}[] = [
  {
    pattern: /fatal error: ([^\s:]+): No such file or directory/g,
    kind: 'header',
    names: (m) => ({ asked: m[1]!, files: [m[1]!] }),
  },
  {
    pattern: /cannot find -l(:?)([^\s:]+)/g,
    kind: 'library',
    names: (m) => ({ asked: `-l${m[1]}${m[2]}`, files: m[1] === ':' ? [m[2]!] : [`lib${m[2]}.so`, `lib${m[2]}.a`] }),
  },
  {
    pattern:
      /Package '([^']+)', required by '[^']*', not found|Package (\S+) was not found in the pkg-config search path/g,
    kind: 'pkg-config module',
    names: (m) => ({ asked: m[1] ?? m[2]!, files: [`${m[1] ?? m[2]!}.pc`] }),
  },
];

/**
 * The host files a failed build's log shows it looked for in vain, one per
 * name asked for.
 * @example findHiddenHostFiles('main.c:1:10: fatal error: zlib.h: No such file or directory') // [{ kind: 'header', asked: 'zlib.h', hostPath: '/usr/include/zlib.h' }] where the host has it
 */
export function findHiddenHostFiles(log: string, locate: HostLocator = locateOnHost): HiddenHostFile[] {
  const found = new Map<string, HiddenHostFile>();
  for (const { pattern, kind, names } of NOT_FOUND) {
    for (const match of log.matchAll(pattern)) {
      const { asked, files } = names(match);
      if (found.has(`${kind} ${asked}`)) continue;
      const hostPath = locate(kind, files);
      if (hostPath !== undefined) found.set(`${kind} ${asked}`, { kind, asked, hostPath });
    }
  }
  return [...found.values()];
}
