/**
 * The same packages in every peer format, packed once and cached next to the
 * set (SET/peers/FORMAT/, described by SET/peers/state.json): each Kiln
 * package's payload is saved as a plain tar.zst (the floor's input) and
 * extracted once into a tree on tmpfs, from which .deb, .pkg.tar.zst and .rpm
 * are made, one package per core at a time. Made again when the generator or
 * this packing changes; a format whose tools are missing is left out.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { repositoryPaths } from '../../src/repo/index.js';
import { have, removeScratch } from '../measure.js';
import { GENERATOR_VERSION, stageRootDirectory } from '../workload/set.js';
import type { PackageSet } from '../workload/set.js';
import type { FormatKey, PeerFormat, PeerPackage } from './common.js';
import { ZSTD_LEVEL, bash, peerPackage, pool, runAsync } from './common.js';
import { debFormat } from './deb.js';
import { pacmanFormat } from './pacman.js';
import { rpmFormat } from './rpm.js';

/** Bump when the packing of any peer format changes. */
const PEERS_VERSION = 1;

export const PACKED_FORMATS: PeerFormat[] = [debFormat, pacmanFormat, rpmFormat];

export interface FormatCache {
  /** File names in FORMAT/, in the set's (dependency) order. */
  files: string[];
  bytes: number;
  compression: string;
}

/** Counted from the packages' manifests. */
export interface WorkloadCounts {
  regularFiles: number;
  executables: number;
  configFiles: number;
  symlinks: number;
  dirs: number;
}

interface PeerState {
  generator: number;
  peers: number;
  packages: number;
  workload: WorkloadCounts;
  formats: Partial<Record<FormatKey, FormatCache>>;
}

export interface PeerCache {
  dir: string;
  workload: WorkloadCounts;
  formats: Partial<Record<FormatKey, FormatCache>>;
  /** A regular file of the last package, relative to the root: the path of the owner queries. */
  ownsPath: string;
  ownsPackage: string;
}

export const formatDir = (cache: PeerCache, key: FormatKey) => join(cache.dir, key);

function readState(path: string, packages: number): PeerState | undefined {
  try {
    const state = JSON.parse(readFileSync(path, 'utf8')) as PeerState;
    return state.generator === GENERATOR_VERSION && state.peers === PEERS_VERSION && state.packages === packages
      ? state
      : undefined;
  } catch {
    return undefined;
  }
}

/** The peer formats `wanted` of the set in setDir (plus the plain tar.zst), packing what the cache lacks. */
export async function preparePeers(
  setDir: string,
  set: PackageSet,
  wanted: FormatKey[],
  log: (line: string) => void,
): Promise<PeerCache> {
  const dir = join(setDir, 'peers');
  const statePath = join(dir, 'state.json');
  const repo = repositoryPaths(join(setDir, 'repo')).public;
  const count = set.packages.length;
  let state = readState(statePath, count);
  if (state === undefined) rmSync(dir, { recursive: true, force: true });
  const valid = (key: FormatKey) => {
    const format = state?.formats[key];
    return (
      format !== undefined &&
      format.files.length === count &&
      format.files.every((file) => existsSync(join(dir, key, file)))
    );
  };
  const formats = PACKED_FORMATS.filter((format) => wanted.includes(format.key) && !valid(format.key)).filter(
    (format) => {
      const missing = format.packTools.filter((tool) => !have(tool));
      if (missing.length > 0)
        log(`note: cannot pack ${format.label} (missing ${missing.join(', ')}); its variants are skipped`);
      return missing.length === 0;
    },
  );
  const needTarZst = !valid('tarzst') || state?.workload === undefined;
  const packages: (PeerPackage | undefined)[] = new Array(count);
  const files: Partial<Record<FormatKey, string[]>> = Object.fromEntries(
    [...formats.map((format) => format.key), 'tarzst'].map((key) => [key, new Array<string>(count)]),
  );

  if (needTarZst || formats.length > 0) {
    const started = performance.now();
    const what = [...(needTarZst ? ['tar.zst'] : []), ...formats.map((format) => format.label)].join(', ');
    const threads = Math.max(1, availableParallelism());
    log(`packing the ${count} packages as ${what} (${threads} at a time) into ${dir}`);
    for (const key of ['tarzst', ...formats.map((format) => format.key)])
      mkdirSync(join(dir, key), { recursive: true });
    const stage = stageRootDirectory('kiln-bench-peers-');
    let done = 0;
    try {
      // Biggest first, so that no core is left with a large package at the end.
      const order = set.packages
        .map((pkg, index) => ({ pkg, index }))
        .sort((a, b) => b.pkg.uncompressed - a.pkg.uncompressed);
      await pool(order, threads, async ({ pkg, index }) => {
        const kpkg = join(repo, pkg.path);
        const payload = `${String(index).padStart(5, '0')}-${pkg.name}.tar.zst`;
        files.tarzst![index] = payload;
        const meta = peerPackage(index, await runAsync('tar', ['-xOf', kpkg, 'metadata.json']));
        packages[index] = meta;
        if (needTarZst) await bash('tar -xOf "$1" payload.tar.zst > "$2"', [kpkg, join(dir, 'tarzst', payload)]);
        if (formats.length > 0) {
          const work = join(stage, pkg.name);
          const tree = join(work, 'tree');
          mkdirSync(tree, { recursive: true });
          await bash('zstd -qdc -- "$1" | tar -x -C "$2"', [join(dir, 'tarzst', payload), tree]);
          for (const format of formats)
            files[format.key]![index] = await format.pack({ pkg: meta, tree, work, outDir: join(dir, format.key) });
          rmSync(work, { recursive: true, force: true });
        }
        if (++done % 50 === 0 || done === count) log(`packed ${done}/${count}`);
      });
    } finally {
      removeScratch(stage);
    }
    const sizeOf = (key: FormatKey, list: string[]) =>
      list.reduce((total, file) => total + statSync(join(dir, key, file)).size, 0);
    const workload = state?.workload ?? countWorkload(packages as PeerPackage[]);
    state = {
      generator: GENERATOR_VERSION,
      peers: PEERS_VERSION,
      packages: count,
      workload,
      formats: {
        ...(state?.formats ?? {}),
        tarzst: {
          files: files.tarzst!,
          bytes: sizeOf('tarzst', files.tarzst!),
          compression: `zstd -${ZSTD_LEVEL} (the Kiln package's payload as it is)`,
        },
        ...Object.fromEntries(
          formats.map((format) => [
            format.key,
            {
              files: files[format.key]!,
              bytes: sizeOf(format.key, files[format.key]!),
              compression: format.compression(),
            },
          ]),
        ),
      },
    };
    writeFileSync(statePath, `${JSON.stringify(state, null, 1)}\n`);
    log(`packed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } else {
    log(`using the packed peer formats in ${dir}`);
  }
  if (state === undefined) throw new Error('internal: no peer state after packing');
  const last = set.packages[count - 1]!;
  return {
    dir,
    workload: state.workload,
    formats: state.formats,
    ownsPath: `bin/${last.name}`,
    ownsPackage: last.name,
  };
}

function countWorkload(packages: PeerPackage[]): WorkloadCounts {
  const counts: WorkloadCounts = { regularFiles: 0, executables: 0, configFiles: 0, symlinks: 0, dirs: 0 };
  for (const pkg of packages) {
    for (const entry of pkg.entries) {
      if (entry.type === 'file') {
        counts.regularFiles++;
        if ((entry.mode & 0o111) !== 0) counts.executables++;
        if (entry.config) counts.configFiles++;
      } else if (entry.type === 'symlink') counts.symlinks++;
      else counts.dirs++;
    }
  }
  return counts;
}
