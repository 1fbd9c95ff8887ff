/**
 * Extract one verified package into the transaction's staging directory:
 * every file, symbolic link and hard link becomes `stage/K`, relocated to the
 * real prefix, with its mode and (as root in a system prefix) its owners.
 * The payload is checked against the manifest in the same pass, so nothing
 * unverified is ever staged under a name that the commit would move.
 */
import { createHash } from 'node:crypto';
import { closeSync, fchmodSync, fchownSync, linkSync, openSync, symlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../errors/index.js';
import type { PackageFile } from '../format/index.js';
import { readPayload } from '../format/index.js';
import type { ManifestEntry, RelocationFile } from '../format/metadata.js';
import { applyRelocation } from '../relocate/applyRelocation.js';
import { fixLongShebang } from '../relocate/fixLongShebang.js';
import type { Checkpoint } from './journal.js';
import { setOwner } from './journal.js';
import type { PreparedPackage } from './prepareTransaction.js';

export function relocationPrefix(root: string): string {
  return root === '/' ? '' : root;
}

export async function stagePackage(pkg: PackageFile, prepared: PreparedPackage, transactionDir: string, prefixRoot: string, applyOwners: boolean, checkpoint: Checkpoint): Promise<void> {
  const { metadata } = pkg;
  const relocation = metadata.relocation;
  const rows = new Map<string, RelocationFile>((relocation?.files ?? []).map((row) => [row.path, row]));
  const stageOf = new Map<string, string>();
  const prefix = relocationPrefix(prefixRoot);
  let index = -1;
  let fd: number | undefined;
  let chunks: Buffer[] | undefined;

  const finishFile = (entry: ManifestEntry, disposition: PreparedPackage['entries'][number]): void => {
    if (chunks !== undefined) {
      const row = rows.get(entry.path)!;
      let relocated = applyRelocation(Buffer.concat(chunks), row, relocation!.placeholder, prefix, `${entry.path} of ${metadata.name}`);
      // A script's "#!" line that is now too long, or names a path with a blank, gets a /bin/sh launcher.
      if (row.kind === 'text') relocated = fixLongShebang(relocated, prefix).content;
      writeSync(fd!, relocated);
      const record = prepared.change.files[index]!;
      record.size = relocated.length;
      record.sha256 = createHash('sha256').update(relocated).digest('hex');
      chunks = undefined;
    }
    if (applyOwners) fchownSync(fd!, disposition.uid, disposition.gid);
    // After chown, which clears setuid bits.
    fchmodSync(fd!, disposition.mode);
    closeSync(fd!);
    fd = undefined;
  };

  try {
    await readPayload(pkg, {
      entry(entry) {
        index++;
        const disposition = prepared.entries[index];
        if (disposition === undefined || prepared.change.files[index]?.path !== entry.path) throw new Error(`Assertion failed: staging is out of step at ${entry.path}`);
        if (disposition.stage === undefined) return;
        const target = join(transactionDir, disposition.stage);
        stageOf.set(entry.path, target);
        if (entry.type === 'file') {
          fd = openSync(target, 'wx', 0o600);
          chunks = rows.has(entry.path) ? [] : undefined;
        } else if (entry.type === 'symlink') {
          symlinkSync(entry.target!, target);
          if (applyOwners) setOwner(target, disposition.uid, disposition.gid, true);
        } else if (entry.type === 'hardlink') {
          const source = stageOf.get(entry.target!);
          if (source === undefined) throw new KilnError('E_PACKAGE_LINK', `cannot install ${metadata.name}: hard link ${entry.path} points to ${entry.target}, which is not staged`, { hint: 'the package is malformed' });
          linkSync(source, target);
        }
      },
      data(_entry, chunk) {
        if (fd === undefined) return;
        if (chunks !== undefined) chunks.push(Buffer.from(chunk));
        else writeSync(fd, chunk);
      },
      end(entry) {
        const disposition = prepared.entries[index]!;
        if (entry.type === 'file' && fd !== undefined) finishFile(entry, disposition);
      },
    });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  checkpoint(`staged ${metadata.name}`);
}
