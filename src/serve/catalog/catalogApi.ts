/**
 * The catalog's JSON API (docs/serve.md, "JSON API"): the same data as the
 * pages, as plain objects. Package entries are the signed index's entries as
 * they are, with `url`, the path to download the file from this server.
 */
import type { ListedFile } from '../../repo/fileList.js';
import { findAdvisories } from '../../advisory/index.js';
import type { IndexEntry } from '../../repo/indexFormat.js';
import { treeHref } from './html.js';
import type { Catalog, CatalogName } from './loadCatalog.js';
import type { SearchResult } from './searchCatalog.js';

export const API_VERSION = 1;

export function repositoryJson(catalog: Catalog) {
  const index = catalog.index;
  return {
    name: index.name,
    serial: index.serial,
    created: index.created,
    expires: index.expires,
    signer: catalog.signer,
    keys: catalog.keys.map((key) => ({
      keyId: key.keyId,
      publicKey: key.publicKey,
      url: treeHref(`keys/${key.keyId}.pub`),
    })),
    names: catalog.names.length,
    packages: index.packages.length,
  };
}

export function searchJson(query: string, offset: number, found: SearchResult) {
  return {
    query,
    offset,
    total: found.total,
    results: found.results.map((item) => ({
      name: item.name,
      category: item.category,
      version: item.versions[0]?.version ?? '',
      summary: item.summary,
    })),
  };
}

function entryJson(catalog: Catalog, entry: IndexEntry) {
  const findings = catalog.advisories === undefined ? [] : findAdvisories(catalog.advisories, entry);
  return {
    ...entry,
    url: treeHref(entry.path),
    advisories: findings.map((finding) => ({
      id: finding.advisory.id,
      aliases: finding.advisory.aliases ?? [],
      summary: finding.advisory.summary ?? '',
      fixed: finding.fixed ?? null,
    })),
  };
}

export function packageJson(catalog: Catalog, item: CatalogName) {
  return {
    name: item.name,
    category: item.category,
    summary: item.summary,
    homepage: item.homepage,
    license: item.license,
    serial: catalog.index.serial,
    signer: catalog.signer,
    versions: item.versions.map((version) => ({
      version: version.version,
      variants: version.variants.map((entry) => entryJson(catalog, entry)),
    })),
    requiredBy: catalog.reverse.get(item.name) ?? [],
  };
}

export function filesJson(catalog: Catalog, entry: IndexEntry, files: ListedFile[] | undefined) {
  return {
    name: entry.name,
    variant: entry.variant,
    sha256: entry.sha256,
    serial: catalog.index.serial,
    published: files !== undefined,
    files: (files ?? []).map((file) =>
      file[1] === 'symlink' ? { path: file[0], type: file[1], target: file[2] } : { path: file[0], type: file[1] },
    ),
  };
}
