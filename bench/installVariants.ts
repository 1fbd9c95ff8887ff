/**
 * The install variants the benchmark compares: what each needs, its untimed
 * set-up on a fresh filesystem, the one command timed, the checks after it,
 * and (for package managers) the list, owns and remove commands run on the
 * same root afterwards. Also what each promises about durability, with a
 * check of that promise against the sync calls strace counted.
 */
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { countLinked, have, isRoot, run } from './measure.js';
import type { SyncCounts } from './measure.js';
import type { FormatKey } from './peers/common.js';
import { debFormat, dpkgTool } from './peers/deb.js';
import {
  kilnEnv,
  kilnInstall,
  kilnList,
  kilnOwn,
  kilnOwns,
  kilnRemove,
  kilnResult,
  makePrefix,
  prefixCache,
  warmCache,
} from './peers/kiln.js';
import type { KilnSetup } from './peers/kiln.js';
import { pacmanFormat, pacmanTool } from './peers/pacman.js';
import type { PeerCache } from './peers/prepare.js';
import { formatDir } from './peers/prepare.js';
import { rpmFormat, rpmTool } from './peers/rpm.js';
import type { Cmd, PeerTool } from './peers/tool.js';
import type { PackageSet } from './workload/set.js';

export const VARIANT_KEYS = [
  'dpkgSafe',
  'dpkgUnsafe',
  'pacman',
  'rpm',
  'kilnCold',
  'kilnWarm',
  'kilnNoFsync',
  'kilnFirstShared',
  'kilnSecond',
  'floorSerial',
  'floorParallel',
  'floorBsdSerial',
  'floorBsdParallel',
] as const;
export type VariantKey = (typeof VARIANT_KEYS)[number];
export type ToolName = 'dpkg' | 'pacman' | 'rpm' | 'kiln' | 'floor';

/** The set a variant runs on, its peer packages, and Kiln. */
export interface Context {
  set: PackageSet;
  /** The repository's published tree (DIR/public), what a client's remote names. */
  repo: string;
  peers: PeerCache;
  names: string[];
  kilnBin: string;
  publicKey: string;
  threads: number;
}

export interface Queries {
  list: Cmd;
  owns: Cmd;
  remove: Cmd;
  /** How many packages the list shows. */
  listed(stdout: string): number;
}

export interface Prepared {
  install: Cmd;
  /** Where the packages' files land. */
  root: string;
  /** The tool's own paths under root (not counted). */
  own(path: string): boolean;
  /** Figures beside the timing, from the command's stdout (e.g. bytes downloaded). */
  figures(stdout: string): Record<string, number>;
  queries?: Queries;
}

export interface Durability {
  /** A few words for the table. */
  short: string;
  /** What the tool promises when it returns, as its documentation and the counts say. */
  promise: string;
  /** Whether the counts bear the promise out. */
  holds(counts: SyncCounts, regularFiles: number): boolean;
}

export interface VariantDef {
  key: VariantKey;
  tool: ToolName;
  label: string;
  durability: Durability;
  format?: FormatKey;
  /** Why it cannot run here, if it cannot. */
  unavailable(): string | undefined;
  /** Untimed: everything on the fresh filesystem at `mnt` up to the timed command. */
  prepare(ctx: Context, mnt: string): Prepared;
}

const fileSyncs = (c: SyncCounts) => c.fsync + c.fdatasync;
const total = (c: SyncCounts) => c.fsync + c.fdatasync + c.syncfs + c.sync + c.sync_file_range + c.msync;

function missing(tools: string[]): string | undefined {
  const absent = tools.filter((tool) => !have(tool));
  return absent.length > 0 ? `missing ${absent.join(', ')}` : undefined;
}

/** Copy a format's package files onto the fresh filesystem; their paths there, in dependency order. */
function copyPackages(ctx: Context, format: FormatKey, mnt: string): string[] {
  const cache = ctx.peers.formats[format];
  if (cache === undefined) throw new Error(`no ${format} packages were packed`);
  const dir = join(mnt, 'pkgs');
  cpSync(formatDir(ctx.peers, format), dir, { recursive: true });
  return cache.files.map((file) => join(dir, file));
}

function peerVariant(key: VariantKey, tool: PeerTool, label: string, durability: Durability): VariantDef {
  const format = tool.format;
  return {
    key,
    tool: tool.tool,
    label,
    durability,
    format,
    unavailable: () => (isRoot() ? missing(tool.installTools) : 'needs root (installs into a root owned by root)'),
    prepare(ctx, mnt) {
      const files = copyPackages(ctx, format, mnt);
      const root = join(mnt, 'root');
      mkdirSync(root);
      tool.setupRoot(root);
      return {
        install: tool.install(root, files),
        root,
        own: tool.own,
        figures: () => ({}),
        queries: {
          list: tool.list(root),
          owns: tool.owns(root, ctx.peers.ownsPath),
          remove: tool.remove(root, [...ctx.names].reverse()),
          listed: (stdout) => stdout.split('\n').filter((line) => line.trim() !== '').length,
        },
      };
    },
  };
}

type KilnMode = 'cold' | 'warm' | 'noFsync' | 'firstShared' | 'second';

function kilnVariant(key: VariantKey, mode: KilnMode, label: string, durability: Durability): VariantDef {
  return {
    key,
    tool: 'kiln',
    label,
    durability,
    unavailable: () => undefined,
    prepare(ctx, mnt) {
      // The repository is copied onto the fresh filesystem too, like every tool's packages.
      const repo = join(mnt, 'repo');
      cpSync(ctx.repo, repo, { recursive: true });
      const setup: KilnSetup = { bin: ctx.kilnBin, repo, publicKey: ctx.publicKey };
      // A shared cache on the same fresh filesystem as the prefixes, so that Kiln can hard-link from its store.
      const shared = mode === 'firstShared' || mode === 'second';
      const cache = join(mnt, 'cache');
      const env = kilnEnv(shared ? { KILN_CACHE: cache } : {});
      let prefix = join(mnt, 'prefix');
      if (mode === 'firstShared') {
        // The packages already downloaded into the shared cache; its unpacked store still empty.
        warmCache(setup, join(cache, 'packages'), ctx.set);
        prefix = join(mnt, 'p1');
      } else if (mode === 'second') {
        // An untimed install into p1 fills the shared cache (packages/ and the unpacked store); the timed one goes into p2.
        const first = join(mnt, 'p1');
        makePrefix(setup, first, env);
        const { command, args } = kilnInstall(setup, first, ctx.names, env);
        kilnResult(run(command, args, { env }), ctx.names.length);
        prefix = join(mnt, 'p2');
      }
      makePrefix(setup, prefix, env, mode !== 'noFsync');
      if (mode === 'warm' || mode === 'noFsync') warmCache(setup, prefixCache(prefix), ctx.set);
      const store = join(cache, 'unpacked');
      if (mode === 'firstShared' && existsSync(store) && readdirSync(store).length > 0)
        throw new Error(`${store} is not empty before the timed install`);
      return {
        install: kilnInstall(setup, prefix, ctx.names, env),
        root: prefix,
        own: kilnOwn,
        figures: (stdout) => {
          const result = kilnResult(stdout, ctx.names.length);
          if (!shared) return result;
          const { files, linked } = countLinked(prefix, kilnOwn);
          return { ...result, regularFiles: files, linkedFiles: linked };
        },
        queries: {
          list: kilnList(setup, prefix, env),
          owns: kilnOwns(setup, prefix, ctx.peers.ownsPath, env),
          remove: kilnRemove(setup, prefix, ctx.names, env),
          // One line per package after the table's header.
          listed: (stdout) => stdout.split('\n').filter((line) => line.trim() !== '' && !/^NAME\s/.test(line)).length,
        },
      };
    },
  };
}

/**
 * The floor: extracting the plain tar.zst payloads with no package manager at
 * all, with GNU tar behind `zstd -dc` (the floor the benchmark is named for) or
 * with bsdtar reading the .tar.zst itself (libarchive: no pipe, no second
 * process; measured faster when run in parallel on two cores). Serially, or one
 * extraction per core at a time in no particular order.
 */
function floorVariant(
  key: VariantKey,
  extractor: 'gnu' | 'bsd',
  parallel: boolean,
  label: string,
  durability: Durability,
): VariantDef {
  const tools = extractor === 'gnu' ? ['zstd', 'tar'] : ['bsdtar'];
  const one = extractor === 'gnu' ? 'zstd -qdc -- "$f" | tar -x -C "$root"' : 'bsdtar -x -C "$root" -f "$f"';
  return {
    key,
    tool: 'floor',
    label,
    durability,
    format: 'tarzst',
    unavailable: () => missing(parallel ? [...tools, 'xargs'] : tools),
    prepare(ctx, mnt) {
      const files = copyPackages(ctx, 'tarzst', mnt);
      const root = join(mnt, 'root');
      mkdirSync(root);
      const script = parallel
        ? `printf "%s\\0" "\${@:3}" | xargs -0 -n 1 -P "$2" bash -c 'set -o pipefail; root=$0 f=$1; ${one}' "$1"`
        : `root=$1; for f in "\${@:3}"; do ${one}; done`;
      return {
        install: {
          command: 'bash',
          args: ['-c', `set -eo pipefail; ${script}`, `bench-${key}`, root, String(ctx.threads), ...files],
        },
        root,
        own: () => false,
        figures: () => ({}),
      };
    },
  };
}

const KILN_DURABLE: Durability = {
  short: 'syncfs + db',
  promise:
    "Kiln fsyncs its journal first, then writes every file with no per-file fsync (paths new to the prefix in place, replacements staged in the transaction directory and renamed into place), then flushes the prefix's filesystem with one syncfs (a `sync -f` child) before SQLite (synchronous = FULL, fsync) records the transaction. When it returns, files and database are on disk.",
  holds: (c, files) => c.syncfs >= 1 && c.fsync > 0 && fileSyncs(c) < files,
};

const FLOOR: Durability = {
  short: 'none',
  promise:
    "zstd | tar and bsdtar make no sync call at all: the data reaches the disk with the kernel's writeback (in the timing: the final sync).",
  holds: (c) => total(c) === 0,
};

/** Every variant, in the order they run within a round. */
export const VARIANTS: VariantDef[] = [
  peerVariant('dpkgSafe', dpkgTool(false), `dpkg -i (--no-force-unsafe-io), ${debFormat.label}`, {
    short: 'fsync per file + db',
    promise:
      "dpkg writes each file as NAME.dpkg-new and starts its writeback (sync_file_range WRITE); before renaming the package's files into place it waits for that writeback and fsyncs every file (sync_file_range WAIT_BEFORE + fsync); its database files are fsynced too. When it returns, files and database are on disk.",
    holds: (c, files) => c.fsync >= files && c.sync_file_range >= 2 * files,
  }),
  peerVariant('dpkgUnsafe', dpkgTool(true), `dpkg -i --force-unsafe-io, ${debFormat.label}`, {
    short: 'db only',
    promise:
      'With --force-unsafe-io dpkg still starts writeback of each file (sync_file_range WRITE, which waits for nothing) but neither waits for it nor fsyncs the files before renaming them into place; it fsyncs its database files. After a crash files can be missing or empty although the database records them installed.',
    holds: (c, files) =>
      c.fsync > 0 &&
      fileSyncs(c) < files &&
      c.sync_file_range >= files &&
      c.sync_file_range < 2 * files &&
      c.syncfs === 0,
  }),
  peerVariant('pacman', pacmanTool, `pacman -U, ${pacmanFormat.label}`, {
    short: 'none',
    promise:
      'pacman (libalpm) extracts the files and writes its local database with no sync call at all: when it returns, files and database may be only in the page cache.',
    holds: (c) => total(c) === 0,
  }),
  peerVariant('rpm', rpmTool, `rpm -i, ${rpmFormat.label}`, {
    short: 'db; syncfs of host /',
    promise:
      'rpm writes the files with no per-file fsync and fdatasyncs its SQLite database. At the end of the transaction it calls syncfs() once, on "/" opened after it has left the chroot, i.e. the host\'s root filesystem: with --root on another filesystem, as here, the installed files are not flushed when rpm returns (see its final sync); installing into / itself, that syncfs would cover them.',
    holds: (c, files) => c.syncfs >= 1 && c.fdatasync > 0 && fileSyncs(c) < files,
  }),
  kilnVariant('kilnCold', 'cold', 'kiln install, cold cache (file:// remote)', KILN_DURABLE),
  kilnVariant('kilnWarm', 'warm', 'kiln install, warm cache', KILN_DURABLE),
  kilnVariant('kilnNoFsync', 'noFsync', 'kiln install, warm cache, fsync = false (no fsync, not crash-safe)', {
    short: 'db only, not crash-safe',
    promise:
      'With fsync = false Kiln skips the syncfs; SQLite still fsyncs its database. After a crash files can be missing or empty although the database records them installed.',
    holds: (c, files) => c.syncfs === 0 && c.fsync > 0 && fileSyncs(c) < files,
  }),
  kilnVariant(
    'kilnFirstShared',
    'firstShared',
    'kiln install, first prefix through a shared cache (unpacks into the store, then links)',
    KILN_DURABLE,
  ),
  kilnVariant('kilnSecond', 'second', 'kiln into a second prefix from the shared cache (hard links)', KILN_DURABLE),
  floorVariant('floorSerial', 'gnu', false, 'floor: zstd -dc | tar -x, one package after another', FLOOR),
  floorVariant('floorParallel', 'gnu', true, 'floor: zstd -dc | tar -x, one pipeline per core', FLOOR),
  floorVariant('floorBsdSerial', 'bsd', false, 'floor: bsdtar -x, one package after another', FLOOR),
  floorVariant('floorBsdParallel', 'bsd', true, 'floor: bsdtar -x, one per core', FLOOR),
];
