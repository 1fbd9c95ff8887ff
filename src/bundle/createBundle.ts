/**
 * `kiln bundle`: the runtime closure of installed packages as one tarball
 * that unpacks anywhere and fixes itself with `bin/kiln-relocate`, a POSIX
 * shell script (docs/bundle.md). Every relocated occurrence is written in a
 * canonical form, the bundle's own placeholder, and listed with its offsets,
 * so the script rewrites exactly those bytes and can do it again after a move.
 */
import {
  closeSync,
  createWriteStream,
  fstatSync,
  fsyncSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Gzip } from 'node:zlib';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { KilnError } from '../errors/index.js';
import type { PackageStore } from '../db/PackageStore.js';
import type { InstalledFile, InstalledPackage } from '../db/types.js';
import { encodeTarHeader, fullVersion, tarPadding, TAR_END } from '../format/index.js';
import type { RelocationFile, TarHeader } from '../format/index.js';
import { isElf, readInterpreter } from '../elf/index.js';
import { fixLongShebang } from '../relocate/index.js';
import { X86_64_LEVELS } from '../solver/cpuLevel.js';
import { ZstdEncoder } from '../util/zstd.js';
import { sha256 } from '../util/hash.js';
import { compareVersions } from '../version/index.js';
import { isoTime } from '../util/isoTime.js';
import type { BundleFile, BundleManifest, BundlePackage, BundleRequirements } from './bundleManifest.js';
import {
  BUNDLE_DIRECTORY,
  BUNDLE_FORMAT,
  BUNDLE_FORMAT_VERSION,
  RELOCATE_SCRIPT,
  encodeFileLines,
  encodeInfo,
  scriptPathProblem,
  serializeBundleManifest,
} from './bundleManifest.js';
import { findAll, holdsPrefix, moveOccurrences } from './moveOccurrences.js';
import { relocateScript } from './relocateScript.js';
import type { TrimClass } from './trimBundle.js';
import { trimClass } from './trimBundle.js';

export interface BundleOptions {
  /** The packages asked for; their installed dependencies come too. */
  names: readonly string[];
  /** The tarball to write: `.tar.zst`, `.tar.gz` (or `.tgz`) or `.tar`. */
  out: string;
  /** Classes of files to keep that a trimmed bundle leaves out. */
  keep?: readonly TrimClass[];
  /** Write the files already relocated for this directory (absolute, no trailing "/"). */
  prefix?: string;
  now?: Date;
}

export interface BundleResult {
  out: string;
  compression: Compression;
  packages: BundlePackage[];
  requires: BundleRequirements;
  room: number | null;
  /** Entries written (files, directories, links), the bundle's own included. */
  entries: number;
  /** Bytes of the regular files written, and of those left out by trimming. */
  bytes: number;
  trimmedBytes: number;
  trimmedFiles: number;
  /** Size of the tarball. */
  archiveBytes: number;
}

type Compression = 'zstd' | 'gzip' | 'none';

/** How much of a file that needs no relocation is read at a time (relocated files are read whole). */
const CHUNK = 1 << 20;

/**
 * Write the bundle of the installed packages `options.names` (and their
 * dependencies) of the prefix at `root`, whose files name `installedPrefix`
 * ('' for the root prefix). The tarball appears whole or not at all.
 */
export async function createBundle(
  root: string,
  installedPrefix: string,
  store: PackageStore,
  options: BundleOptions,
): Promise<BundleResult> {
  const compression = compressionOf(options.out);
  if (options.names.length === 0) throw new KilnError('E_USAGE', 'cannot bundle: no package named');
  const packages = closureOf(store, options.names);
  const requires = requirementsOf(packages);
  const placeholderLength = Math.min(
    ...packages.map((pkg) =>
      pkg.metadata.relocation === null ? 160 : Buffer.byteLength(pkg.metadata.relocation.placeholder),
    ),
  );
  const placeholder = bundlePlaceholder(placeholderLength);
  if (options.prefix !== undefined) checkTarget(options.prefix);
  const keep = new Set(options.keep ?? []);

  const entries = collectEntries(packages, store, keep);
  const part = `${options.out}.part`;
  const sink = await ArchiveSink.open(part, compression);
  const files: BundleFile[] = [];
  const loaders = new Set<string>();
  // One read buffer for the whole bundle, not one per file.
  const chunk = Buffer.allocUnsafe(CHUNK);
  let room: number | null = null;
  let bytes = 0;
  try {
    for (const entry of entries.kept) {
      const { file, pkg } = entry;
      if (
        file.path === RELOCATE_SCRIPT ||
        file.path === BUNDLE_DIRECTORY ||
        file.path.startsWith(`${BUNDLE_DIRECTORY}/`)
      )
        throw new KilnError(
          'E_BUNDLE',
          `cannot bundle ${pkg.name}: it has ${file.path}, which the bundle keeps for itself`,
        );
      const problem = scriptPathProblem(file.path);
      if (problem !== undefined)
        throw new KilnError('E_BUNDLE', `cannot bundle ${pkg.name}: its path ${JSON.stringify(file.path)} ${problem}`, {
          hint: "the bundle's fix-up script reads its file list line by line; such a path cannot be carried",
        });
      if (file.type === 'dir') {
        const mode = (file.mode & 0o777) | 0o700;
        files.push({ path: file.path, type: 'dir', mode, size: 0, package: pkg.name });
        await sink.entry(file.path, 'dir', mode);
        continue;
      }
      if (file.type === 'symlink') {
        const target = file.target ?? '';
        files.push({ path: file.path, type: 'symlink', mode: 0o777, size: 0, target, package: pkg.name });
        await sink.entry(file.path, 'symlink', 0o777, target);
        continue;
      }
      const mode = (file.mode & 0o777) | 0o400;
      const absolute = join(root, file.path);
      const row = relocationRows(pkg).get((file.type === 'hardlink' ? file.target : null) ?? file.path);
      if (row === undefined) {
        const written = await streamFile(sink, absolute, file.path, mode, chunk);
        checkUnchanged(file, pkg, written.sha256, root);
        files.push({
          path: file.path,
          type: 'file',
          mode,
          size: written.size,
          sha256: written.sha256,
          package: pkg.name,
        });
        if (written.loader !== undefined) loaders.add(written.loader);
        bytes += written.size;
        continue;
      }
      const installed = readFileSync(absolute);
      checkUnchanged(file, pkg, sha256(installed), root);
      const base = Buffer.byteLength(pkg.metadata.relocation!.placeholder);
      const canonical = canonicalContent(
        installed,
        { ...row, baseLength: base, room: base },
        installedPrefix,
        placeholder,
        `${root}/${file.path}`,
      );
      const loader = loaderOf(canonical.content, file.path);
      if (loader !== undefined) loaders.add(loader);
      const bundleFile: BundleFile = {
        path: file.path,
        type: 'file',
        mode,
        size: canonical.content.length,
        sha256: sha256(canonical.content),
        package: pkg.name,
      };
      if (canonical.offsets.length > 0) {
        bundleFile.relocation = {
          kind: row.kind,
          offsets: canonical.offsets,
          room: row.kind === 'binary' ? base : placeholderLength,
        };
        if (row.kind === 'binary') room = room === null ? base : Math.min(room, base);
      }
      const content =
        options.prefix === undefined || bundleFile.relocation === undefined
          ? canonical.content
          : moveOccurrences(
              canonical.content,
              { ...bundleFile.relocation, baseLength: placeholderLength },
              placeholder,
              options.prefix,
              file.path,
            );
      files.push(bundleFile);
      await sink.file(file.path, mode, content);
      bytes += content.length;
    }
    for (const loader of loaders) {
      if (/[\s'"$`\\]/.test(loader))
        throw new KilnError(
          'E_BUNDLE',
          `cannot bundle: a program names the loader ${JSON.stringify(loader)}, which the fix-up script cannot carry`,
        );
    }
    const manifest: BundleManifest = {
      format: BUNDLE_FORMAT,
      formatVersion: BUNDLE_FORMAT_VERSION,
      created: isoTime(options.now ?? new Date()),
      placeholder,
      room,
      trimmed: (['dev', 'docs'] as const).filter((name) => !keep.has(name)),
      requires: { ...requires, loaders: [...loaders].sort() },
      packages: packages.map(bundlePackage),
      files,
    };
    if (options.prefix !== undefined && room !== null && Buffer.byteLength(options.prefix) > room) {
      throw new KilnError(
        'E_RELOCATE',
        `cannot relocate the bundle for ${options.prefix}: the path is ${Buffer.byteLength(options.prefix)} bytes long and its binary files have room for ${room}`,
        { hint: `choose a directory whose path is at most ${room} bytes long` },
      );
    }
    const script = Buffer.from(relocateScript(), 'utf8');
    if (!files.some((file) => file.path === 'bin')) {
      files.push({ path: 'bin', type: 'dir', mode: 0o755, size: 0 });
      await sink.entry('bin', 'dir', 0o755);
    }
    files.push({ path: RELOCATE_SCRIPT, type: 'file', mode: 0o755, size: script.length, sha256: sha256(script) });
    await sink.file(RELOCATE_SCRIPT, 0o755, script);
    await sink.entry(BUNDLE_DIRECTORY, 'dir', 0o755);
    await sink.file(`${BUNDLE_DIRECTORY}/manifest.json`, 0o644, Buffer.from(serializeBundleManifest(manifest), 'utf8'));
    await sink.file(`${BUNDLE_DIRECTORY}/files.txt`, 0o644, Buffer.from(encodeFileLines(files), 'utf8'));
    await sink.file(`${BUNDLE_DIRECTORY}/info`, 0o644, Buffer.from(encodeInfo(manifest), 'utf8'));
    await sink.file(`${BUNDLE_DIRECTORY}/prefix`, 0o644, Buffer.from(`${options.prefix ?? placeholder}\n`, 'utf8'));
    const archiveBytes = await sink.finish();
    renameSync(part, options.out);
    return {
      out: options.out,
      compression,
      packages: manifest.packages,
      requires: manifest.requires,
      room,
      entries: files.length + 5,
      bytes,
      trimmedBytes: entries.trimmedBytes,
      trimmedFiles: entries.trimmedFiles,
      archiveBytes,
    };
  } catch (error) {
    sink.abandon();
    rmSync(part, { force: true });
    throw error;
  }
}

/** The tarball's compression, from its name. */
function compressionOf(out: string): Compression {
  if (out.endsWith('.tar.zst') || out.endsWith('.tzst')) return 'zstd';
  if (out.endsWith('.tar.gz') || out.endsWith('.tgz')) return 'gzip';
  if (out.endsWith('.tar')) return 'none';
  throw new KilnError('E_USAGE', `cannot write bundle ${out}: its name must end in .tar.zst, .tar.gz, .tgz or .tar`, {
    hint: 'use .tar.gz for hosts whose tar has no zstd',
  });
}

/**
 * The bundle's placeholder: as long as the shortest build placeholder of its
 * packages, so that every binary occurrence holds it with room to spare.
 * @example bundlePlaceholder(24) // '/kiln-bundle-placeholder'
 */
export function bundlePlaceholder(length: number): string {
  const fill = '/kiln-bundle-placeholder';
  let text = fill;
  while (text.length < length) text += '_';
  return text.slice(0, Math.max(8, length));
}

/** A directory a bundle can be relocated into at bundle time (the script checks the same when it runs). */
function checkTarget(prefix: string): void {
  if (!prefix.startsWith('/') || prefix.endsWith('/') || /[\n'"$`\\]/.test(prefix) || prefix.includes('//'))
    throw new KilnError(
      'E_USAGE',
      `cannot relocate the bundle for ${JSON.stringify(prefix)}: not an absolute path without a trailing "/", quotes, "$", "\`" or "\\"`,
    );
}

/** The packages asked for and, transitively, the installed packages they depend on, by name. */
function closureOf(store: PackageStore, names: readonly string[]): InstalledPackage[] {
  const chosen = new Map<string, InstalledPackage>();
  const queue = [...names];
  for (const name of names) {
    if (store.getInstalled(name) === undefined)
      throw new KilnError('E_NOT_INSTALLED', `cannot bundle ${name}: it is not installed in this prefix`, {
        hint: `install it first, or bundle it straight from the remotes with "kiln bundle --from-remotes ${name}"`,
      });
  }
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (chosen.has(name)) continue;
    const pkg = store.getInstalled(name);
    if (pkg === undefined) continue;
    chosen.set(name, pkg);
    for (const dep of pkg.metadata.depends) queue.push(dep.name);
  }
  return [...chosen.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** What a host needs to run all of `packages`: one architecture and C library, the newest libc floor, the highest CPU level. */
function requirementsOf(packages: readonly InstalledPackage[]): Omit<BundleRequirements, 'loaders'> {
  const first = packages[0]!.metadata.target;
  let libcVersion = '0';
  let cpu = first.cpu;
  for (const pkg of packages) {
    const { target } = pkg.metadata;
    if (target.arch !== first.arch || target.libc !== first.libc)
      throw new KilnError(
        'E_BUNDLE',
        `cannot bundle ${packages[0]!.name} and ${pkg.name} together: one is built for ${first.arch} ${first.libc}, the other for ${target.arch} ${target.libc}`,
      );
    if (compareVersions(target.libcVersion, libcVersion) > 0) libcVersion = target.libcVersion;
    if (levelRank(target.cpu) > levelRank(cpu)) cpu = target.cpu;
  }
  return { arch: first.arch, libc: first.libc, libcVersion, cpu };
}

/** An x86-64 level's place among X86_64_LEVELS; -1 for another architecture's. */
function levelRank(level: string): number {
  return (X86_64_LEVELS as readonly string[]).indexOf(level);
}

const rowsByPackage = new WeakMap<InstalledPackage, Map<string, RelocationFile>>();

/** A package's relocation rows by path. */
function relocationRows(pkg: InstalledPackage): Map<string, RelocationFile> {
  let rows = rowsByPackage.get(pkg);
  if (rows === undefined) {
    rows = new Map((pkg.metadata.relocation?.files ?? []).map((row) => [row.path, row]));
    rowsByPackage.set(pkg, rows);
  }
  return rows;
}

function bundlePackage(pkg: InstalledPackage): BundlePackage {
  return { name: pkg.name, version: fullVersion(pkg), variant: pkg.variant, options: pkg.metadata.options };
}

interface KeptEntry {
  file: InstalledFile;
  pkg: InstalledPackage;
}

/** The packages' files in path order, without what trimming leaves out; a directory two packages declare appears once. */
function collectEntries(
  packages: readonly InstalledPackage[],
  store: PackageStore,
  keep: ReadonlySet<TrimClass>,
): { kept: KeptEntry[]; trimmedBytes: number; trimmedFiles: number } {
  const byPath = new Map<string, KeptEntry>();
  let trimmedBytes = 0;
  let trimmedFiles = 0;
  for (const pkg of packages) {
    for (const file of store.filesOf(pkg.name)) {
      const trim = trimClass(file.path);
      if (trim !== undefined && !keep.has(trim)) {
        if (file.type !== 'dir') {
          trimmedFiles++;
          trimmedBytes += file.size;
        }
        continue;
      }
      if (!byPath.has(file.path)) byPath.set(file.path, { file, pkg });
    }
  }
  // Every parent directory of what is kept, whether or not a package lists it.
  for (const path of [...byPath.keys()]) {
    for (let at = path.lastIndexOf('/'); at > 0; at = path.lastIndexOf('/', at - 1)) {
      const parent = path.slice(0, at);
      if (byPath.has(parent)) continue;
      const owner = byPath.get(path)!;
      byPath.set(parent, {
        pkg: owner.pkg,
        file: {
          ...owner.file,
          path: parent,
          type: 'dir',
          mode: 0o755,
          size: 0,
          sha256: null,
          target: null,
          config: false,
          declared: false,
        },
      });
    }
  }
  const kept = [...byPath.values()].sort((a, b) =>
    a.file.path < b.file.path ? -1 : a.file.path > b.file.path ? 1 : 0,
  );
  return { kept, trimmedBytes, trimmedFiles };
}

/** A file that is not a configuration file must be as installed: a bundle of a damaged prefix would spread the damage. */
function checkUnchanged(file: InstalledFile, pkg: InstalledPackage, sha256: string, root: string): void {
  if (file.config || file.sha256 === null || file.sha256 === sha256) return;
  throw new KilnError(
    'E_BUNDLE',
    `cannot bundle ${pkg.name}: ${root}/${file.path} was changed since it was installed`,
    {
      hint: `"kiln verify ${pkg.name}" lists what changed; "kiln install --reinstall ${pkg.name}" restores it`,
    },
  );
}

/**
 * An installed file's canonical form: every occurrence of the prefix it was
 * installed into replaced by the bundle's placeholder, a `#!` line into the
 * prefix made a launcher (so it runs from a directory with blanks), and the
 * placeholder's offsets in the result.
 */
function canonicalContent(
  installed: Buffer,
  row: { kind: 'text' | 'binary'; offsets: number[]; baseLength: number; room: number },
  installedPrefix: string,
  placeholder: string,
  where: string,
): { content: Buffer; offsets: number[] } {
  let content: Buffer;
  if (holdsPrefix(installed, row, installedPrefix)) {
    content = moveOccurrences(installed, row, installedPrefix, placeholder, where);
  } else if (row.kind === 'text' && installedPrefix !== '') {
    // A configuration file the user edited, or a script whose #! line was made a launcher at install: found by its text.
    const found = findAll(installed, installedPrefix);
    if (found.length === 0) return { content: installed, offsets: [] };
    content = moveOccurrences(
      installed,
      { kind: 'text', offsets: found, baseLength: Buffer.byteLength(installedPrefix), room: 0 },
      installedPrefix,
      placeholder,
      where,
    );
  } else {
    throw new KilnError(
      'E_BUNDLE',
      `cannot bundle ${where}: it does not hold the prefix where its package's relocation table says`,
      {
        hint: '"kiln verify" names what changed; "kiln install --reinstall NAME" restores it',
      },
    );
  }
  if (row.kind === 'text') content = fixLongShebang(content, placeholder, true).content;
  return { content, offsets: row.kind === 'binary' ? [...row.offsets] : findAll(content, placeholder) };
}

/** The program interpreter an ELF executable names, from its head. */
function loaderOf(head: Buffer, where: string): string | undefined {
  if (!isElf(head)) return undefined;
  try {
    return readInterpreter(head, where);
  } catch {
    // An ELF file whose program headers lie past what was read, or a malformed one: it names no loader we can check.
    return undefined;
  }
}

/** Stream a file that needs no relocation into the archive, hashing it on the way. */
async function streamFile(
  sink: ArchiveSink,
  absolute: string,
  path: string,
  mode: number,
  chunk: Buffer,
): Promise<{ size: number; sha256: string; loader?: string }> {
  const fd = openSync(absolute, 'r');
  try {
    const first = readSync(fd, chunk, 0, chunk.length, null);
    if (first < chunk.length) {
      const content = Buffer.from(chunk.subarray(0, first));
      await sink.file(path, mode, content);
      const loader = loaderOf(content, path);
      return { size: first, sha256: sha256(content), ...(loader === undefined ? {} : { loader }) };
    }
    // A large file: its size is taken first, and a file that changes while it is read is an error.
    const hash = createHash('sha256');
    const { size } = fstatSync(fd);
    const loader = loaderOf(chunk.subarray(0, first), path);
    await sink.header({ path, type: 'file', mode, uname: '', gname: '', size, linkTarget: '' });
    let written = 0;
    let length = first;
    while (length > 0) {
      const piece = chunk.subarray(0, Math.min(length, size - written));
      hash.update(piece);
      await sink.write(Buffer.from(piece));
      written += piece.length;
      if (written >= size) break;
      length = readSync(fd, chunk, 0, CHUNK, null);
    }
    if (written !== size)
      throw new KilnError('E_BUNDLE', `cannot bundle ${absolute}: it changed size while it was read`);
    await sink.write(Buffer.alloc(tarPadding(size)));
    return { size, sha256: hash.digest('hex'), ...(loader === undefined ? {} : { loader }) };
  } finally {
    closeSync(fd);
  }
}

/** The tarball being written: tar blocks through the compressor into `PATH.part`. */
class ArchiveSink {
  private bytes = 0;

  private constructor(
    private readonly path: string,
    private readonly fd: number,
    private readonly zstd: ZstdEncoder | undefined,
    private readonly gzip: { stream: Gzip; done: Promise<void> } | undefined,
  ) {}

  static async open(path: string, compression: Compression): Promise<ArchiveSink> {
    const fd = openSync(path, 'w', 0o644);
    if (compression !== 'gzip')
      return new ArchiveSink(path, fd, compression === 'zstd' ? new ZstdEncoder(12) : undefined, undefined);
    const stream = createGzip({ level: 9 });
    const out = createWriteStream('', { fd, autoClose: false });
    stream.pipe(out);
    return new ArchiveSink(path, fd, undefined, { stream, done: finished(out) });
  }

  /** A directory or a symbolic link. */
  async entry(path: string, type: 'dir' | 'symlink', mode: number, linkTarget = ''): Promise<void> {
    await this.header({ path, type, mode, uname: '', gname: '', size: 0, linkTarget });
  }

  async header(header: TarHeader): Promise<void> {
    await this.write(encodeTarHeader(header));
  }

  async file(path: string, mode: number, content: Buffer): Promise<void> {
    await this.header({ path, type: 'file', mode, uname: '', gname: '', size: content.length, linkTarget: '' });
    await this.write(content);
    await this.write(Buffer.alloc(tarPadding(content.length)));
  }

  async write(data: Buffer): Promise<void> {
    if (this.gzip !== undefined) {
      if (!this.gzip.stream.write(data)) await once(this.gzip.stream, 'drain');
      return;
    }
    for (const piece of this.zstd === undefined ? [data] : this.zstd.push(data)) this.raw(piece);
  }

  private raw(piece: Buffer): void {
    let at = 0;
    while (at < piece.length) at += writeSync(this.fd, piece, at);
    this.bytes += piece.length;
  }

  /** End the archive, flush it to disk; its size. */
  async finish(): Promise<number> {
    await this.write(TAR_END);
    if (this.gzip !== undefined) {
      this.gzip.stream.end();
      await this.gzip.done;
    } else if (this.zstd !== undefined) {
      for (const piece of this.zstd.end()) this.raw(piece);
    }
    fsyncSync(this.fd);
    closeSync(this.fd);
    return statSync(this.path).size;
  }

  abandon(): void {
    this.gzip?.stream.destroy();
    try {
      closeSync(this.fd);
    } catch {
      // Already closed by finish().
    }
  }
}
