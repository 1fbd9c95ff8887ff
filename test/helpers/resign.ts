/**
 * Rewriting a published index as a hostile (or merely unusual) repository
 * would: edit it, give it the next serial, and sign it with the repository's
 * own key, so that clients accept it and meet what it says.
 */
import { parseJson } from './kiln.js';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { indexTrustedComment, parseIndex } from '../../src/repo/index.js';
import { publishIndexV2 } from '../../src/repo/publishIndex.js';
import { formatSignature, readSecretKeyFile, signData } from '../../src/sign/index.js';

export interface IndexEntryJson {
  name: string;
  version: string;
  path: string;
  size: number;
  sha256: string;
  [key: string]: unknown;
}

/** Edits `published`/index.json (and its snapshot) with `edit`, raises its serial and signs it with the secret key at `keyPath`. */
export async function resignIndex(
  published: string,
  keyPath: string,
  edit: (index: { name: string; serial: number; packages: IndexEntryJson[] }) => void | Promise<void>,
): Promise<void> {
  const index = parseJson(await readFile(join(published, 'index.json'), 'utf8')) as {
    name: string;
    serial: number;
    packages: IndexEntryJson[];
  };
  await edit(index);
  index.serial++;
  const text = Buffer.from(JSON.stringify(index));
  const key = await readSecretKeyFile(keyPath);
  const signature = formatSignature(
    signData(text, key, { trustedComment: indexTrustedComment({ name: index.name, serial: index.serial }) }),
  );
  for (const path of [join(published, 'indexes', `${index.serial}.json`), join(published, 'index.json')]) {
    await writeFile(path, text);
    await writeFile(`${path}.minisig`, signature);
  }
  // The same index in format v2, which clients read first.
  await publishIndexV2(published, parseIndex(text, 'the edited index'), key);
}
