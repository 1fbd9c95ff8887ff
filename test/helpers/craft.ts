/**
 * Crafting packages that Kiln would never write — hostile or broken ones —
 * from the same low-level pieces the writer uses, so that each reader check
 * can be tested on its own.
 */
import { writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import {
  MARKER_CONTENT,
  MARKER_ENTRY,
  METADATA_ENTRY,
  PAYLOAD_ENTRY,
  SIGNATURE_ENTRY,
  TAR_END,
  containerEntry,
  containerHeader,
  tarPadding,
} from '../../src/format/container.js';
import type { ManifestEntry, PackageMetadata } from '../../src/format/index.js';
import {
  computeVariantId,
  encodeTarHeader,
  packageTrustedComment,
  payloadTarSize,
  serializeMetadata,
} from '../../src/format/index.js';
import type { SecretKey } from '../../src/sign/index.js';
import { formatSignature, signData } from '../../src/sign/index.js';
import type { TarHeader } from '../../src/format/index.js';
import type { Sha256 } from '../../src/util/hash.js';
import { ZstdEncoder } from '../../src/util/zstd.js';

export interface CraftEntry {
  /** What the manifest says (omit to leave it out of the manifest). */
  manifest?: ManifestEntry;
  /** What the payload tar holds (omit to leave it out of the payload). */
  tar?: TarHeader;
  /** Raw header bytes to use instead of encoding `tar` (for entry types Kiln never writes). */
  tarBytes?: Buffer;
  content?: Buffer;
}

export interface CraftOptions {
  entries: CraftEntry[];
  key?: SecretKey;
  /** Extra bytes appended to the payload tar before compression (after its end marker). */
  trailingPayload?: Buffer;
  /** That many zero bytes after the tar's end marker, fed to the compressor a MiB at a time (a bomb, without holding it in memory). */
  trailingZeros?: number;
  /** Change the metadata before it is signed. */
  mutate?: (meta: PackageMetadata) => void;
}

const target = { arch: 'x86_64', cpu: 'x86-64', libc: 'glibc', libcVersion: '2.17' };

/** A regular file's manifest entry and tar header, consistent with `content`. */
export function fileEntry(path: string, content: string | Buffer, mode = 0o644): CraftEntry {
  const bytes = Buffer.from(content);
  const sha256 = createHash('sha256').update(bytes).digest('hex') as Sha256;
  return {
    manifest: { path, type: 'file', mode, owner: 'root', group: 'root', size: bytes.length, sha256 },
    tar: { path, type: 'file', mode, uname: 'root', gname: 'root', size: bytes.length, linkTarget: '' },
    content: bytes,
  };
}

export function dirEntry(path: string): CraftEntry {
  return {
    manifest: { path, type: 'dir', mode: 0o755, owner: 'root', group: 'root', size: 0 },
    tar: { path, type: 'dir', mode: 0o755, uname: 'root', gname: 'root', size: 0, linkTarget: '' },
  };
}

export function linkEntry(path: string, target: string, type: 'symlink' | 'hardlink' = 'symlink'): CraftEntry {
  const mode = type === 'symlink' ? 0o777 : 0o644;
  return {
    manifest: { path, type, mode, owner: 'root', group: 'root', size: 0, target },
    tar: { path, type, mode, uname: 'root', gname: 'root', size: 0, linkTarget: target },
  };
}

/** A ustar header of a character device (type flag "3"), with a correct checksum. */
export function charDeviceHeader(path: string): Buffer {
  const block = encodeTarHeader({
    path,
    type: 'file',
    mode: 0o666,
    uname: 'root',
    gname: 'root',
    size: 0,
    linkTarget: '',
  });
  block.write('3', 156, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
  return block;
}

/** Build the bytes of a package from `options`. */
export function craftPackage(options: CraftOptions): Buffer {
  const tarParts: Buffer[] = [];
  for (const entry of options.entries) {
    if (entry.tarBytes) tarParts.push(entry.tarBytes);
    else if (entry.tar) tarParts.push(encodeTarHeader(entry.tar));
    else continue;
    if (entry.content) tarParts.push(entry.content, Buffer.alloc(tarPadding(entry.content.length)));
  }
  tarParts.push(TAR_END);
  if (options.trailingPayload) tarParts.push(options.trailingPayload);
  const tar = Buffer.concat(tarParts);
  const encoder = new ZstdEncoder(3);
  const compressed = [...encoder.push(tar)];
  const zeros = Buffer.alloc(1 << 20);
  for (let left = options.trailingZeros ?? 0; left > 0; left -= zeros.length)
    compressed.push(...encoder.push(zeros.subarray(0, Math.min(left, zeros.length))));
  const payload = Buffer.concat([...compressed, ...encoder.end()]);
  const files = options.entries.flatMap((entry) => (entry.manifest ? [entry.manifest] : []));
  const meta: PackageMetadata = {
    format: 'kiln-package',
    formatVersion: 1,
    name: 'crafted',
    category: 'test',
    version: '1.0',
    revision: 0,
    variant: computeVariantId({}, target),
    options: {},
    target,
    summary: 'a crafted package',
    homepage: '',
    license: 'MIT',
    depends: [],
    provides: { sonames: [] },
    needs: { sonames: [] },
    users: [],
    groups: [],
    directories: [],
    files,
    relocation: null,
    payload: {
      compression: 'zstd',
      size: payload.length,
      sha256: createHash('sha256').update(payload).digest('hex') as Sha256,
      uncompressedSize: payloadTarSize(files),
    },
    installedSize: files.reduce((total, entry) => total + entry.size, 0),
  };
  options.mutate?.(meta);
  const metadata = serializeMetadata(meta);
  const parts = [containerEntry(MARKER_ENTRY, Buffer.from(MARKER_CONTENT)), containerEntry(METADATA_ENTRY, metadata)];
  if (options.key) {
    const signature = formatSignature(signData(metadata, options.key, { trustedComment: packageTrustedComment(meta) }));
    parts.push(containerEntry(SIGNATURE_ENTRY, Buffer.from(signature)));
  }
  parts.push(
    containerHeader(PAYLOAD_ENTRY, payload.length),
    payload,
    Buffer.alloc(tarPadding(payload.length)),
    TAR_END,
  );
  return Buffer.concat(parts);
}

export async function writeCrafted(path: string, options: CraftOptions): Promise<string> {
  await writeFile(path, craftPackage(options));
  return path;
}
