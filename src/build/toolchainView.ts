/**
 * The host as a build sees it: the toolchain's files (toolchainPackages.ts)
 * and nothing else, as a tree of what to show; buildSandbox.ts makes it the
 * sandbox's file system. A directory whose every entry belongs to the
 * toolchain (`/usr/lib/gcc`, `/usr/include/linux`) is shown whole; of a
 * directory shared with other packages (`/usr/include`,
 * `/usr/lib/x86_64-linux-gnu`, `/usr/bin`) only the toolchain's entries are,
 * so that `zlib.h`, `libz.a` and `zlib.pc` beside them do not exist there.
 */
import type { Dirent } from 'node:fs';
import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isErrno } from '../errors/index.js';
import { DPKG_DIR, readAlternativeLinks, readInstalledPackages, readPackageFiles } from './dpkgDatabase.js';
import { toolchainPackages } from './toolchainPackages.js';

/**
 * Paths of toolchain packages a build does not need: documentation, and
 * every pkg-config directory (the build's pkg-config searches the
 * placeholder prefix only; the C library's libcrypt.pc would be the one host
 * module it could find). The mount points of the sandbox's own /dev, /proc
 * and /tmp, and the host's variable data, are never taken from the host.
 */
const LEFT_OUT =
  /^\/(dev|proc|sys|run|tmp|var|home|root|boot|mnt|media|srv|opt)(\/|$)|^\/usr\/share\/(doc|doc-base|man|info|locale|lintian|bug|menu|bash-completion)(\/|$)|\/pkgconfig(\/|$)/;

/** Host files outside every package that programs of the toolchain read: accounts (`id -un`), name service order, and the loader's cache. */
const HOST_FILES = ['/etc/passwd', '/etc/group', '/etc/nsswitch.conf', '/etc/ld.so.cache'];

/** The top-level links of a merged /usr (`/bin` → `usr/bin`; the loader is /lib64/ld-linux-x86-64.so.2). */
const MERGED_USR_LINKS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/**
 * One entry of the view, under a directory that is only partly shown: a
 * host directory shown whole (`tree`), a directory of which only some
 * entries are shown, a file, or a symbolic link (recreated, not bound).
 */
export type ViewEntry =
  | { kind: 'tree'; path: string }
  | { kind: 'directory'; path: string; entries: ViewEntry[] }
  | { kind: 'file'; path: string }
  | { kind: 'link'; path: string; target: string };

export interface ToolchainView {
  /** The entries of `/` that are shown. */
  entries: ViewEntry[];
  /** The Debian packages shown, by name. */
  packages: string[];
  /** Development packages the toolchain's dependencies reached but that stay hidden. */
  leftOut: string[];
}

/** The last view made in this process, and the state of dpkg's database it was made from (`kiln bulk` asks once per recipe). */
let lastView: { database: string; view: Promise<ToolchainView | undefined> } | undefined;

/**
 * The toolchain view of this host, from its dpkg database. Undefined where
 * there is none: then the toolchain cannot be told from the rest of the host.
 * Made again whenever dpkg's database has changed (a package installed or
 * removed) since the last one.
 * @example const view = await toolchainView(); // view?.entries: [{ kind: 'link', path: '/bin', target: 'usr/bin' }, { kind: 'directory', path: '/usr', entries: […] } …]
 */
export function toolchainView(): Promise<ToolchainView | undefined> {
  const status = statSync(join(DPKG_DIR, 'status'), { throwIfNoEntry: false });
  const database = status === undefined ? 'none' : `${status.ino} ${status.size} ${status.mtimeMs}`;
  if (lastView?.database !== database) lastView = { database, view: makeView() };
  return lastView.view;
}

async function makeView(): Promise<ToolchainView | undefined> {
  const installed = await readInstalledPackages();
  if (installed.length === 0) return undefined;
  const toolchain = toolchainPackages(installed);
  const canonical = canonicalizer();
  const shown = new Set<string>();
  const show = (path: string | undefined): void => {
    if (path === undefined || LEFT_OUT.test(path)) return;
    shown.add(path);
  };
  for (const files of await Promise.all(toolchain.packages.map((pkg) => readPackageFiles(pkg))))
    for (const path of files) show(canonical(path));
  for (const path of [...HOST_FILES, ...MERGED_USR_LINKS]) if (existsSync(path)) show(path);
  // An alternative is shown where it leads to a shown file: /usr/bin/cc and /etc/alternatives/cc, for gcc.
  for (const { link, name } of await readAlternativeLinks()) {
    const target = realTarget(join('/etc/alternatives', name));
    if (target === undefined || !shown.has(target)) continue;
    show(canonical(link));
    show(join('/etc/alternatives', name));
  }
  const needed = new Set<string>();
  for (const path of shown)
    for (let dir = dirname(path); dir !== '/' && !needed.has(dir); dir = dirname(dir)) needed.add(dir);
  return {
    entries: planDirectory('/', shown, needed).entries,
    packages: toolchain.packages.map((pkg) => pkg.name),
    leftOut: toolchain.leftOut,
  };
}

/** The shown entries under `dir`, and whether all of it is shown, all the way down. */
function planDirectory(
  dir: string,
  shown: ReadonlySet<string>,
  needed: ReadonlySet<string>,
): { whole: boolean; entries: ViewEntry[] } {
  let listing: Dirent[];
  try {
    listing = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'EACCES') || isErrno(error, 'ENOTDIR'))
      return { whole: false, entries: [] };
    throw error;
  }
  // The root is never shown whole: the sandbox's /dev, /proc and /tmp are its own.
  let whole = dir !== '/';
  const entries: ViewEntry[] = [];
  for (const entry of listing) {
    const path = join(dir, entry.name);
    // Python's compiled modules are written by the packages' install scripts, so no package lists them.
    if (entry.name === '__pycache__' && entry.isDirectory() && shown.has(dir)) {
      entries.push({ kind: 'tree', path });
      continue;
    }
    if (!shown.has(path) && !needed.has(path)) {
      whole = false;
      continue;
    }
    if (entry.isDirectory()) {
      const sub = planDirectory(path, shown, needed);
      // A directory that is only on the way to shown files is not itself shown whole.
      if (sub.whole && shown.has(path)) entries.push({ kind: 'tree', path });
      else {
        whole = false;
        entries.push({ kind: 'directory', path, entries: sub.entries });
      }
    } else if (!shown.has(path)) whole = false;
    else if (entry.isSymbolicLink()) entries.push({ kind: 'link', path, target: readlinkSync(path) });
    else if (entry.isFile()) entries.push({ kind: 'file', path });
    else whole = false;
  }
  // Files of a directory shown in part are hard-linked (buildSandbox.ts); a set-user-id program
  // (su, mount) is no build's business, and a link to one must not outlive an upgrade.
  if (!whole)
    return {
      whole,
      entries: entries.filter((entry) => entry.kind !== 'file' || (lstatSync(entry.path).mode & 0o6000) === 0),
    };
  return { whole, entries };
}

/**
 * dpkg records paths as packaged (`/lib/x86_64-linux-gnu/libc.so.6`); on a
 * merged /usr their directories are links. The canonical path resolves the
 * directory, not the entry itself: a link stays a link.
 */
function canonicalizer(): (path: string) => string | undefined {
  const dirs = new Map<string, string | undefined>();
  return (path) => {
    if (path === '/') return undefined;
    const dir = dirname(path);
    if (!dirs.has(dir)) dirs.set(dir, realTarget(dir));
    const real = dirs.get(dir);
    return real === undefined ? undefined : join(real, basename(path));
  };
}

function realTarget(path: string): string | undefined {
  try {
    return realpathSync.native(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR') || isErrno(error, 'ELOOP') || isErrno(error, 'EACCES'))
      return undefined;
    throw error;
  }
}
