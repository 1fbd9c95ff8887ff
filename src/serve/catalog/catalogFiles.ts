/**
 * The file list of the catalog's serial (`indexes/N.files.json.zst`), read
 * and checked against the index the first time a page asks for files, then
 * kept with the catalog: sha256 of a package file → the paths it installs.
 * Undefined when the repository publishes no file list for the serial.
 */
import { join } from 'node:path';
import { fileListPath, verifiedFileList } from '../../repo/fileList.js';
import type { ListedFile } from '../../repo/fileList.js';
import { SIGNATURE_SUFFIX } from '../../repo/layout.js';
import { readFileIfExists } from '../../util/fs.js';
import type { Catalog } from './loadCatalog.js';

const lists = new WeakMap<Catalog, Promise<Map<string, ListedFile[]> | undefined>>();

export function catalogFiles(catalog: Catalog): Promise<Map<string, ListedFile[]> | undefined> {
  let list = lists.get(catalog);
  if (list === undefined) {
    list = readList(catalog);
    lists.set(catalog, list);
  }
  return list;
}

async function readList(catalog: Catalog): Promise<Map<string, ListedFile[]> | undefined> {
  const path = join(catalog.tree, fileListPath(catalog.index.serial));
  const [bytes, signature] = await Promise.all([readFileIfExists(path), readFileIfExists(path + SIGNATURE_SUFFIX)]);
  if (bytes === undefined || signature === undefined) return undefined;
  const list = verifiedFileList(
    bytes,
    signature.toString('utf8'),
    catalog.keys.map((key) => key.key),
    catalog.index,
    path,
  );
  return new Map(list.packages.map((pkg) => [pkg.sha256, pkg.files]));
}
