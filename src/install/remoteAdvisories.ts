/**
 * A remote's advisories on the client. `kiln sync` fetches the document the
 * accepted index pins (`advisories` in the v1 index or the v2 root), checks
 * it against the pin (size and sha256 of what it decompresses to) and reads
 * it, and keeps it beside the accepted index, `var/lib/kiln/indexes/NAME/`:
 * `advisories.zst` as published and `advisories.pin.json`, the pin. Both are
 * written before the database row that makes the index current, and every
 * read checks the file against the pin again. An index that pins none leaves
 * none: the remote publishes no advisories.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AdvisoryDocument } from '../advisory/index.js';
import { parseAdvisories } from '../advisory/index.js';
import type { PrefixPaths } from '../config/prefixLayout.js';
import { remoteDirectory } from '../config/prefixLayout.js';
import { KilnError } from '../errors/index.js';
import type { Pin } from '../repo/indexV2.js';
import { openPinned, pinnedPath } from '../repo/indexV2.js';
import type { RepositoryFetcher } from '../repo/readPublishedIndex.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { readFileIfExistsSync } from '../util/fs.js';

function files(paths: PrefixPaths, remote: string): { data: string; pin: string } {
  const dir = remoteDirectory(paths, remote);
  return { data: join(dir, 'advisories.zst'), pin: join(dir, 'advisories.pin.json') };
}

/** Keep the advisories `pin` names (fetched unless the copy kept is already them); none when `pin` is undefined. */
export async function acceptAdvisories(
  paths: PrefixPaths,
  remote: string,
  pin: Pin | undefined,
  fetch: RepositoryFetcher,
  source: string,
): Promise<void> {
  const where = files(paths, remote);
  if (pin === undefined) {
    await rm(where.pin, { force: true });
    await rm(where.data, { force: true });
    return;
  }
  if (readKept(where, pin) !== undefined) {
    await writeFileAtomic(where.pin, JSON.stringify({ sha256: pin.sha256, size: pin.size }));
    return;
  }
  const path = pinnedPath('advisories', pin);
  const bytes = await fetch(path);
  if (bytes === undefined)
    throw new KilnError(
      'E_INDEX_MISMATCH',
      `cannot accept the advisories of remote ${remote}: ${source}/${path} is missing`,
      {
        hint: 'the index pins advisories the repository does not serve; tell its maintainer',
      },
    );
  // Checked against the pin and read through before anything is kept.
  parseAdvisories(openPinned(bytes, pin, `${source}/${path}`), `${source}/${path}`);
  await mkdir(remoteDirectory(paths, remote), { recursive: true });
  await writeFileAtomic(where.data, bytes);
  await writeFileAtomic(where.pin, JSON.stringify({ sha256: pin.sha256, size: pin.size }));
}

function readKept(where: { data: string }, pin: Pin): AdvisoryDocument | undefined {
  const bytes = readFileIfExistsSync(where.data);
  if (bytes === undefined) return undefined;
  try {
    return parseAdvisories(openPinned(bytes, pin, where.data), where.data);
  } catch {
    return undefined;
  }
}

/**
 * The advisories of a synced remote; undefined when it publishes none. A copy
 * that no longer matches its pin (damaged, or altered) is returned as an
 * error, never as "no advisories": a missing advisory must not let an affected
 * package through (the caller throws it where packages are placed or audited).
 */
export function tryReadRemoteAdvisories(paths: PrefixPaths, remote: string): AdvisoryDocument | KilnError | undefined {
  const where = files(paths, remote);
  const pinText = readFileIfExistsSync(where.pin);
  if (pinText === undefined) return undefined;
  let pin: Pin | undefined;
  try {
    pin = JSON.parse(pinText.toString('utf8')) as Pin;
  } catch {
    pin = undefined;
  }
  const document = pin === undefined ? undefined : readKept(where, pin);
  if (document === undefined)
    return new KilnError(
      'E_INDEX_MISMATCH',
      `cannot read the advisories of remote ${remote}: ${where.data} is damaged or altered`,
      {
        hint: `run "kiln sync ${remote}" to fetch them again`,
      },
    );
  return document;
}
