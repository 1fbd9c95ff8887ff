/**
 * The unpacked store of a shared package cache (`CACHE/unpacked/`): each
 * package's payload unpacked once, as packed (not relocated), with its
 * metadata (the exact signed bytes, checked when the entry was made), under
 * the sha256 of the package file that the index pins, so that another prefix
 * on the same file system needs neither the package file nor its payload: it gets
 * its files as hard links instead of unpacking them again — the way uv and
 * pixi install from their caches. Used only when the prefix names a shared
 * cache (`cache` in its config, or KILN_CACHE).
 *
 * An entry is made in a temporary directory and renamed into place with its
 * `complete` mark, so a half-made entry is never used (an entry is used only
 * under its final name); two prefixes making the same entry at once both
 * succeed, one rename wins. A temporary directory is `HASH.tmp-OWNER-THREAD`:
 * OWNER names a process that holds a kernel lock on `CACHE/owners/OWNER.lock`
 * (ownerLock.ts) while it may write there, so the temporaries of a process
 * killed while unpacking are removed by the next one to claim the store.
 *
 * What is linked: a regular file that is not relocated, not a configuration
 * file, and whose mode as installed is its mode as packed (no owners applied).
 * Everything else is written: relocated files from the stored content,
 * configuration files copied (so a user's edits never reach the store),
 * symbolic links made. A linked file shares its inode with the store and
 * every other prefix that linked it: a file changed in place (not replaced)
 * changes in all of them, as with uv; `kiln verify` shows it.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  constants,
  copyFileSync,
  existsSync,
  fchmodSync,
  fchownSync,
  closeSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import type { FileLock } from '../db/fileLock.js';
import { claimOwner, probeOwner } from '../db/ownerLock.js';
import { KilnError, isErrno } from '../errors/index.js';
import type { RelocationFile } from '../format/metadata.js';
import { parsePackageMetadata } from '../format/metadata.js';
import type { PackageFile } from '../format/openPackage.js';
import { applyRelocation } from '../relocate/applyRelocation.js';
import { fixLongShebang } from '../relocate/fixLongShebang.js';
import type { ExtractJob, ExtractResult } from './extractPackage.js';
import { extractPackage } from './extractPackage.js';
import { setOwner } from './journal.js';

const COMPLETE = 'complete';
const METADATA = 'metadata.json';
/** `HASH.tmp-OWNER-THREAD`, OWNER being `PID-RANDOM`. */
const TEMPORARY = /\.tmp-(\d+-[0-9a-f]{8})-\d+$/;

/** This process's claim on each shared cache's store: the owner name its temporaries carry, and the lock that says it is alive. */
const claims = new Map<string, { owner: string; lock: FileLock }>();

/**
 * Claim the store of the shared cache `cache` for this process (once; the
 * claim lasts as long as the process), removing first what dead owners left.
 * Returns the owner name that `fillStore` puts in its temporary names.
 */
export async function claimStore(cache: string): Promise<string> {
  const known = claims.get(cache);
  if (known !== undefined) return known.owner;
  const owner = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const lock = await claimOwner(join(cache, 'unpacked.lock'), join(cache, 'owners', `${owner}.lock`), () =>
    removeAbandoned(cache),
  );
  claims.set(cache, { owner, lock });
  return owner;
}

/** Remove the temporaries and owner files of owners that are gone; runs under the store's registry lock. */
function removeAbandoned(cache: string): void {
  const store = join(cache, 'unpacked');
  const owners = join(cache, 'owners');
  const temporaries = new Map<string, string[]>();
  for (const name of listDirectory(store)) {
    const owner = TEMPORARY.exec(name)?.[1];
    if (owner !== undefined) temporaries.set(owner, [...(temporaries.get(owner) ?? []), join(store, name)]);
  }
  for (const name of listDirectory(owners)) {
    if (name.endsWith('.lock') && !temporaries.has(name.slice(0, -5))) temporaries.set(name.slice(0, -5), []);
  }
  for (const [owner, paths] of temporaries) {
    const file = join(owners, `${owner}.lock`);
    const probe = probeOwner(file);
    if (probe.state === 'live') continue;
    for (const path of paths) rmSync(path, { recursive: true, force: true });
    if (probe.state === 'gone') {
      rmSync(file, { force: true });
      probe.lock.release();
    }
  }
}

function listDirectory(path: string): string[] {
  try {
    return readdirSync(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  }
}

/** The store entry of a package: `STORE/PACKAGE-SHA256` (the sha256 of the .kpkg file the index pins). */
export function storeEntry(store: string, packageSha256: string): string {
  return join(store, packageSha256);
}

export function isStored(entry: string): boolean {
  return existsSync(join(entry, COMPLETE));
}

/** A stored package's metadata: its exact bytes and the metadata parsed from them (not checked again). */
export function storedPackage(entry: string): PackageFile {
  const metadataBytes = readFileSync(join(entry, METADATA));
  const path = join(entry, METADATA);
  const metadata = parsePackageMetadata(JSON.parse(metadataBytes.toString('utf8')) as unknown, path, { checked: true });
  return {
    path,
    fileSize: metadataBytes.length,
    metadata,
    metadataBytes,
    signatureBytes: undefined,
    signatureText: undefined,
    payloadOffset: 0,
    payloadSize: 0,
  };
}

/** Unpack the package into its store entry (unless another process just did), with its metadata bytes; `owner` comes from claimStore. */
export function fillStore(job: ExtractJob, entry: string, metadataBytes: Uint8Array, owner: string): void {
  const temporary = `${entry}.tmp-${owner}-${threadId}`;
  rmSync(temporary, { recursive: true, force: true });
  const tree = join(temporary, 'tree');
  mkdirSync(tree, { recursive: true });
  try {
    extractPackage({
      ...job,
      root: tree,
      store: true,
      applyOwners: false,
      entries: job.metadata.files.map((file) => ({
        ...(file.type === 'dir' ? {} : { write: { inPrefix: true, path: file.path } }),
        mode: file.mode & 0o777,
        uid: 0,
        gid: 0,
      })),
    });
    writeFileSync(join(temporary, METADATA), metadataBytes);
    writeFileSync(join(temporary, COMPLETE), `${job.metadata.name}\n`);
    try {
      renameSync(temporary, entry);
    } catch (error) {
      // Another prefix made it meanwhile: use theirs.
      if (!isErrno(error, 'ENOTEMPTY') && !isErrno(error, 'EEXIST')) throw error;
    }
  } finally {
    rmSync(temporary, { recursive: true, force: true });
  }
}

/** Place a package from its store entry where `job` says, linking what can be linked. */
export function linkPackage(
  job: ExtractJob,
  entry: string,
  onWritten: (path: string) => void = () => undefined,
): ExtractResult {
  const { metadata, entries } = job;
  const tree = join(entry, 'tree');
  const relocation = metadata.relocation;
  const rows = new Map<string, RelocationFile>((relocation?.files ?? []).map((row) => [row.path, row]));
  const writtenAt = new Map<string, string>();
  const relocated: ExtractResult['relocated'] = [];
  metadata.files.forEach((file, index) => {
    const disposition = entries[index]!;
    const where = disposition.write;
    if (where === undefined) return;
    const target = join(where.inPrefix ? job.root : job.transactionDir, where.path);
    const source = join(tree, file.path);
    writtenAt.set(file.path, target);
    if (file.type === 'symlink') {
      symlinkSync(file.target!, target);
      if (job.applyOwners) setOwner(target, disposition.uid, disposition.gid, true);
    } else if (file.type === 'hardlink') {
      const first = writtenAt.get(file.target!);
      if (first === undefined)
        throw new KilnError(
          'E_PACKAGE_LINK',
          `cannot install ${metadata.name}: hard link ${file.path} points to ${file.target}, which is not installed with it`,
          { hint: 'the package is malformed' },
        );
      linkSync(first, target);
    } else if (file.type === 'file') {
      const row = rows.get(file.path);
      if (row !== undefined) {
        let content = applyRelocation(
          readFileSync(source),
          row,
          relocation!.placeholder,
          job.relocationPrefix,
          `${file.path} of ${metadata.name}`,
        );
        if (row.kind === 'text') content = fixLongShebang(content, job.relocationPrefix).content;
        const fd = openSync(target, 'wx', 0o600);
        try {
          writeSync(fd, content);
          if (job.applyOwners) fchownSync(fd, disposition.uid, disposition.gid);
          fchmodSync(fd, disposition.mode);
        } finally {
          closeSync(fd);
        }
        relocated.push({ index, size: content.length, sha256: createHash('sha256').update(content).digest('hex') });
      } else if (
        file.config === true ||
        job.applyOwners ||
        disposition.mode !== (file.mode & 0o777) ||
        lstatSync(source).size !== file.size
      ) {
        // Its own copy: edited by the user, owned or moded otherwise than the store's.
        copyFileSync(source, target, constants.COPYFILE_EXCL);
        if (job.applyOwners) chownSync(target, disposition.uid, disposition.gid);
        // The copy has the store's mode, the mode as packed.
        if (job.applyOwners || disposition.mode !== (file.mode & 0o777)) chmodSync(target, disposition.mode);
      } else {
        linkSync(source, target);
      }
    }
    onWritten(where.path);
  });
  return { relocated };
}
