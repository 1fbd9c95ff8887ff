/**
 * Extract one package for a transaction: every file, symbolic link and hard
 * link is written where `prepareTransaction` decided — in place in the prefix
 * (journal op `new`) or as `stage/K` in the transaction directory — relocated
 * to the real prefix, with its mode and (as root in a system prefix) owners.
 *
 * The package file is checked against the sha256 its index pins in the same
 * pass that reads the payload (readPayloadFileSync with the job's pin): a
 * payload of up to 4 MiB is held whole and checked before the first byte is
 * written, a bigger one is read once in 1 MiB slices and checked at its end.
 * Every entry's name, type, mode, owners, size and link target are checked
 * against the manifest as it streams, each file's sha256 too. A mismatch is
 * refused there and the transaction rolls back what was written, so nothing
 * but what the signer packed stays. Without a pin the payload's sha256 is
 * checked against the signed metadata first. Synchronous: it runs in an
 * extraction worker thread (installWorkers.ts), or in the calling thread for
 * small transactions.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fchownSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../errors/index.js';
import type { FilePin } from '../format/readPayload.js';
import { readPayloadFileSync } from '../format/readPayload.js';
import type { ManifestEntry, PackageMetadata, RelocationFile } from '../format/metadata.js';
import { applyRelocation } from '../relocate/applyRelocation.js';
import { fixLongShebang } from '../relocate/fixLongShebang.js';
import { setOwner } from './journal.js';
import type { EntryDisposition } from './prepareTransaction.js';

/** Everything extraction needs, as plain data (it crosses to a worker thread). */
export interface ExtractJob {
  /** The package file and where its payload lies in it. */
  path: string;
  payloadOffset: number;
  payloadSize: number;
  metadata: PackageMetadata;
  /** One per manifest entry, in manifest order. */
  entries: EntryDisposition[];
  root: string;
  transactionDir: string;
  /** The prefix the placeholder is replaced by ('' for `/`). */
  relocationPrefix: string;
  applyOwners: boolean;
  /** The process umask when known: a mode it leaves alone is given to open(2) and needs no fchmod. */
  umask: number | undefined;
  /** Unpacking into the shared store (unpackedStore.ts): directories are made too, nothing is relocated. */
  store?: boolean;
  /** The file's sha256 as the index pins it, checked as the payload is read (readPayloadFileSync). */
  pin?: FilePin;
}

/** Installed size and sha256 of each relocated file (by manifest index); the database records these. */
export interface ExtractResult {
  relocated: { index: number; size: number; sha256: string }[];
}

/** @param written called after each entry is written (the crash tests kill the process there). */
export function extractPackage(job: ExtractJob, onWritten: (path: string) => void = () => undefined): ExtractResult {
  const { metadata, entries } = job;
  const relocation = metadata.relocation;
  const rows = new Map<string, RelocationFile>((relocation?.files ?? []).map((row) => [row.path, row]));
  const writtenAt = new Map<string, string>();
  const relocated: ExtractResult['relocated'] = [];
  let index = -1;
  let fd: number | undefined;
  let chunks: Buffer[] | undefined;

  const written = (path: string): void => {
    onWritten(path);
    if (injectFailure)
      throw new KilnError('E_IO', `cannot write ${join(job.root, path)}: failure injected by KILN_TEST_FAIL_EXTRACT`, {
        hint: 'a test hook; never set in normal use',
      });
  };
  const finishFile = (entry: ManifestEntry, disposition: EntryDisposition): void => {
    if (chunks !== undefined) {
      const row = rows.get(entry.path)!;
      let content = applyRelocation(
        Buffer.concat(chunks),
        row,
        relocation!.placeholder,
        job.relocationPrefix,
        `${entry.path} of ${metadata.name}`,
      );
      // A script's "#!" line that is now too long, or names a path with a blank, gets a /bin/sh launcher.
      if (row.kind === 'text') content = fixLongShebang(content, job.relocationPrefix).content;
      writeSync(fd!, content);
      relocated.push({ index, size: content.length, sha256: createHash('sha256').update(content).digest('hex') });
      chunks = undefined;
    }
    if (job.applyOwners) fchownSync(fd!, disposition.uid, disposition.gid);
    // After chown, which clears setuid bits, or where the umask narrowed the mode given to open.
    if (!modeSetByOpen(disposition.mode, job.umask)) fchmodSync(fd!, disposition.mode);
    closeSync(fd!);
    fd = undefined;
  };

  // The tests' hook: fail after the first entry written of the package named (see test/install-threads.test.ts).
  const injectFailure = process.env['KILN_TEST_FAIL_EXTRACT'] === metadata.name;
  try {
    readPayloadFileSync(
      job,
      {
        entry(entry) {
          index++;
          const disposition = entries[index];
          if (disposition === undefined)
            throw new Error(`Assertion failed: extraction is out of step at ${entry.path}`);
          const where = disposition.write;
          if (entry.type === 'dir' && job.store === true)
            mkdirSync(join(job.root, entry.path), { mode: (entry.mode & 0o777) | 0o700 });
          if (where === undefined) return;
          const target = join(where.inPrefix ? job.root : job.transactionDir, where.path);
          writtenAt.set(entry.path, target);
          if (entry.type === 'file') {
            // O_EXCL: never through a symbolic link, never over something that appeared meanwhile.
            fd = openSync(target, 'wx', modeSetByOpen(disposition.mode, job.umask) ? disposition.mode : 0o600);
            chunks = rows.has(entry.path) && job.store !== true ? [] : undefined;
            return;
          }
          if (entry.type === 'symlink') {
            symlinkSync(entry.target!, target);
            if (job.applyOwners) setOwner(target, disposition.uid, disposition.gid, true);
          } else if (entry.type === 'hardlink') {
            const source = writtenAt.get(entry.target!);
            if (source === undefined)
              throw new KilnError(
                'E_PACKAGE_LINK',
                `cannot install ${metadata.name}: hard link ${entry.path} points to ${entry.target}, which is not installed with it`,
                { hint: 'the package is malformed' },
              );
            linkSync(source, target);
          }
          written(where.path);
        },
        data(_entry, chunk) {
          if (fd === undefined) return;
          if (chunks !== undefined) chunks.push(Buffer.from(chunk));
          else writeSync(fd, chunk);
        },
        end(entry) {
          if (entry.type !== 'file' || fd === undefined) return;
          finishFile(entry, entries[index]!);
          written(entries[index]!.write!.path);
        },
      },
      job.pin === undefined ? {} : { pin: job.pin },
    );
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return { relocated };
}

/** What the placeholder of a relocatable package becomes in a prefix ('' for `/`, so `/usr` stays `/usr`). */
export function relocationPrefix(root: string): string {
  return root === '/' ? '' : root;
}

/** True when open(2) creates a file with exactly `mode`: no special bits, and none the umask takes away. */
function modeSetByOpen(mode: number, umask: number | undefined): boolean {
  return umask !== undefined && (mode & 0o7000) === 0 && (mode & umask) === 0;
}

/** The process umask, read without changing it (Linux: /proc/self/status); undefined elsewhere. */
export function currentUmask(): number | undefined {
  try {
    const match = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return match === null ? undefined : parseInt(match[1]!, 8);
  } catch {
    return undefined;
  }
}
