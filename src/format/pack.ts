/**
 * `pack`: make a package from a staged tree and a pack input. The same tree and
 * input always give a byte-identical package: entries are sorted, owners go by
 * name, times are zero, the metadata is canonical JSON, and Ed25519 signatures
 * are deterministic.
 *
 * The ELF files of the tree are read as they are packed: what they need and
 * provide, and the glibc floor, join what the input states (linkMetadata.ts).
 * Their run paths are packed as they are: rewriting them is a build step
 * (postProcess), and a tree packed by hand keeps the bytes its packer staged.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { ElfFile } from '../elf/index.js';
import { isElf, isLinkedElf, linkFacts, readElf } from '../elf/index.js';
import { KilnError } from '../errors/index.js';
import { PlaceholderScanner } from '../relocate/index.js';
import type { SecretKey } from '../sign/index.js';
import { formatSignature, signData } from '../sign/index.js';
import { temporaryPathFor } from '../util/atomicWrite.js';
import type { Sha256 } from '../util/hash.js';
import { ZstdEncoder } from '../util/zstd.js';
import { MAX_PAYLOAD_BYTES, TAR_END, tarPadding } from './container.js';
import { writeContainer } from './writeContainer.js';
import { assertSafeManifest } from './manifestSafety.js';
import type { ManifestEntry, PackageMetadata, RelocationFile } from './metadata.js';
import {
  PACKAGE_FORMAT,
  PACKAGE_FORMAT_VERSION,
  computeVariantId,
  packageFileName,
  packageSpec,
  parsePackageMetadata,
  payloadTarSize,
  serializeMetadata,
} from './metadata.js';
import { linkMetadata } from './linkMetadata.js';
import type { PackInput } from './packInput.js';
import { packageTrustedComment } from './packageSignature.js';
import { encodeTarHeader } from './tar.js';
import type { StagedEntry } from './walkStage.js';
import { walkStage } from './walkStage.js';

export interface PackOptions {
  /** The staged tree (DESTDIR). */
  stageDir: string;
  input: PackInput;
  /** Directory the package is written into (created if missing). */
  outDir: string;
  /** Sign the package with this key. */
  secretKey?: SecretKey | undefined;
  /** zstd level, 1–19 (default 12). */
  level?: number | undefined;
  /** fsync the result (default true). */
  durable?: boolean | undefined;
}

export interface PackResult {
  path: string;
  metadata: PackageMetadata;
  signed: boolean;
  /** What the packer should know: a glibc floor raised by the files, a file that looks like ELF but cannot be read. */
  notes: string[];
}

interface WrittenPayload {
  size: number;
  sha256: Sha256;
  uncompressedSize: number;
  relocations: RelocationFile[];
  /** The executables and shared libraries of the tree. */
  elves: ElfFile[];
  notes: string[];
}

const READ_CHUNK = 1 << 20;
/** Smaller files cannot hold an ELF header and are not looked at (as in postProcess). */
const MIN_ELF_SIZE = 64;

/**
 * Pack `stageDir` into `outDir/name-version[-rN]-variant.kpkg`.
 * @example await pack({ stageDir: 'dest', input: await readPackInput('meta.toml'), outDir: 'out', secretKey })
 */
export async function pack(options: PackOptions): Promise<PackResult> {
  const { stageDir, input } = options;
  const context = `cannot pack ${stageDir}`;
  const staged = await walkStage(stageDir);
  const entries = buildManifest(staged, input, context);
  assertSafeManifest(entries, context);

  await mkdir(options.outDir, { recursive: true });
  // The variant (in the file name) depends on the glibc floor, which is known once the files are read.
  const payloadPath = temporaryPathFor(join(options.outDir, `${packageSpec(input)}.payload`));
  const durable = options.durable ?? true;
  try {
    const payloadHandle = await open(payloadPath, 'wx', 0o600);
    let payload: WrittenPayload;
    try {
      payload = await writePayload(payloadHandle, staged, entries, input.placeholder, options.level ?? 12, context);
    } finally {
      await payloadHandle.close();
    }
    if (payload.size > MAX_PAYLOAD_BYTES) {
      throw new KilnError(
        'E_PACKAGE_SIZE',
        `${context}: the compressed payload is ${payload.size} bytes, more than the format's limit of ${MAX_PAYLOAD_BYTES}`,
        { hint: 'split the package' },
      );
    }
    const links = linkMetadata(input, linkFacts(payload.elves));
    const variant = computeVariantId(input.options, links.target);
    const finalPath = join(options.outDir, packageFileName({ ...input, variant }));
    const metadata: PackageMetadata = {
      format: PACKAGE_FORMAT,
      formatVersion: PACKAGE_FORMAT_VERSION,
      name: input.name,
      category: input.category,
      version: input.version,
      revision: input.revision,
      variant,
      options: input.options,
      ...(input.defaults === undefined ? {} : { defaults: input.defaults }),
      ...(input.role === undefined ? {} : { role: input.role }),
      target: links.target,
      summary: input.summary,
      homepage: input.homepage,
      license: input.license,
      depends: input.depends,
      provides: links.provides,
      needs: links.needs,
      users: input.users,
      groups: input.groups,
      directories: input.directories,
      files: entries,
      relocation: input.placeholder === null ? null : { placeholder: input.placeholder, files: payload.relocations },
      payload: {
        compression: 'zstd',
        size: payload.size,
        sha256: payload.sha256,
        uncompressedSize: payload.uncompressedSize,
      },
      installedSize: entries.reduce((total, entry) => total + entry.size, 0),
    };
    const metadataBytes = serializeMetadata(metadata);
    // What we write must be what we would accept: catches any drift between writer and reader.
    parsePackageMetadata(JSON.parse(metadataBytes.toString('utf8')), finalPath);
    const signature = options.secretKey
      ? Buffer.from(
          formatSignature(
            signData(metadataBytes, options.secretKey, { trustedComment: packageTrustedComment(metadata) }),
          ),
          'utf8',
        )
      : undefined;
    await writeContainer(finalPath, {
      metadata: metadataBytes,
      signature,
      payloadPath,
      payloadOffset: 0,
      payloadSize: payload.size,
      durable,
    });
    return { path: finalPath, metadata, signed: signature !== undefined, notes: [...payload.notes, ...links.notes] };
  } finally {
    await rm(payloadPath, { force: true });
  }
}

function buildManifest(staged: readonly StagedEntry[], input: PackInput, context: string): ManifestEntry[] {
  const firstByInode = new Map<string, string>();
  const entries: ManifestEntry[] = staged.map((item) => {
    const base = { path: item.path, mode: item.stats.mode & 0o7777, owner: 'root', group: 'root', size: 0 };
    if (item.type === 'symlink') return { ...base, type: 'symlink', mode: 0o777, target: item.linkTarget ?? '' };
    if (item.type === 'dir') return { ...base, type: 'dir' };
    if (item.stats.nlink > 1) {
      const key = `${item.stats.dev}:${item.stats.ino}`;
      const first = firstByInode.get(key);
      if (first !== undefined) return { ...base, type: 'hardlink', target: first };
      firstByInode.set(key, item.path);
    }
    return { ...base, type: 'file', size: item.stats.size };
  });
  const byPath = new Map(entries.map((entry) => [entry.path, entry]));
  const missing = (path: string, field: string): never => {
    throw new KilnError(
      'E_META',
      `${context}: ${field} names ${JSON.stringify(path)}, which is not in the staged tree`,
      { hint: 'fix the path in the pack input or stage the file' },
    );
  };
  for (const path of input.configFiles) {
    const entry = byPath.get(path) ?? missing(path, 'configFiles');
    if (entry.type !== 'file')
      throw new KilnError(
        'E_META',
        `${context}: config file ${JSON.stringify(path)} is a ${entry.type}, not a regular file`,
      );
    entry.config = true;
  }
  for (const spec of input.permissions) {
    let entry = byPath.get(spec.path) ?? missing(spec.path, 'permissions');
    if (entry.type === 'symlink')
      throw new KilnError('E_META', `${context}: permissions cannot be set on symlink ${JSON.stringify(spec.path)}`, {
        hint: 'set them on the file it points to',
      });
    // Hard-linked names share one inode: set the permissions on the one that holds the content.
    if (entry.type === 'hardlink') entry = byPath.get(entry.target ?? '')!;
    if (spec.owner !== undefined) entry.owner = spec.owner;
    if (spec.group !== undefined) entry.group = spec.group;
    if (spec.mode !== undefined) entry.mode = spec.mode;
  }
  // A hard link is the same inode as its target: it has the target's mode and owners.
  for (const entry of entries) {
    if (entry.type !== 'hardlink') continue;
    const target = byPath.get(entry.target ?? '')!;
    entry.mode = target.mode;
    entry.owner = target.owner;
    entry.group = target.group;
  }
  for (const dir of input.directories) {
    const entry = byPath.get(dir.path);
    if (entry !== undefined && entry.type !== 'dir')
      throw new KilnError(
        'E_META',
        `${context}: declared directory ${JSON.stringify(dir.path)} is a ${entry.type} in the staged tree`,
      );
  }
  return entries;
}

async function writePayload(
  out: FileHandle,
  staged: readonly StagedEntry[],
  entries: ManifestEntry[],
  placeholder: string | null,
  level: number,
  context: string,
): Promise<WrittenPayload> {
  // Sizes come from lstat and are checked as files are read, so the tar size is known up front.
  const encoder = new ZstdEncoder(level, payloadTarSize(entries));
  const hash = createHash('sha256');
  let size = 0;
  let uncompressedSize = 0;
  const relocations: RelocationFile[] = [];
  const elves: ElfFile[] = [];
  const notes: string[] = [];
  const emit = async (chunks: Buffer[]): Promise<void> => {
    for (const chunk of chunks) {
      hash.update(chunk);
      size += chunk.length;
      await out.write(chunk);
    }
  };
  const feed = async (data: Buffer): Promise<void> => {
    uncompressedSize += data.length;
    await emit(encoder.push(data));
  };
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    const item = staged[i]!;
    await feed(
      encodeTarHeader({
        path: entry.path,
        type: entry.type,
        mode: entry.mode,
        uname: entry.owner,
        gname: entry.group,
        size: entry.size,
        linkTarget: entry.target ?? '',
      }),
    );
    if (entry.type !== 'file') continue;
    const fileHash = createHash('sha256');
    const scanner = placeholder === null ? undefined : new PlaceholderScanner(placeholder);
    const handle = await open(item.absolute, 'r');
    let read = 0;
    // An ELF file's bytes are kept (copied: the buffer is reused) to read its dynamic section afterwards.
    let elf: Buffer[] | undefined;
    try {
      const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, Math.max(entry.size, 1)));
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
        if (bytesRead === 0) break;
        // The hash, scanner and encoder all consume the chunk before the buffer is reused.
        const chunk = buffer.subarray(0, bytesRead);
        read += bytesRead;
        if (read > entry.size) break;
        if (read === bytesRead && entry.size >= MIN_ELF_SIZE && isElf(chunk)) elf = [];
        elf?.push(Buffer.from(chunk));
        fileHash.update(chunk);
        scanner?.push(chunk);
        await feed(chunk);
      }
    } finally {
      await handle.close();
    }
    if (read !== entry.size)
      throw new KilnError('E_STAGE', `${context}: ${entry.path} changed size while it was being packed`, {
        hint: 'do not modify the staged tree while packing',
      });
    entry.sha256 = fileHash.digest('hex') as Sha256;
    await feed(Buffer.alloc(tarPadding(entry.size)));
    const found = scanner?.result();
    if (found !== undefined) relocations.push({ path: entry.path, ...found });
    if (elf !== undefined) {
      try {
        const info = readElf(Buffer.concat(elf), item.absolute);
        if (isLinkedElf(info)) elves.push({ path: entry.path, info });
      } catch (error) {
        // Packed all the same (test data, another system's firmware): only what it needs goes unrecorded.
        if (!(error instanceof KilnError) || error.code !== 'E_ELF') throw error;
        notes.push(
          `note: ${entry.path} starts like an ELF file but cannot be read, so the libraries it needs are not recorded: ${error.message}`,
        );
      }
    }
  }
  await feed(TAR_END);
  await emit(encoder.end());
  return { size, sha256: hash.digest('hex') as Sha256, uncompressedSize, relocations, elves, notes };
}
