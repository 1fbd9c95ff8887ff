/**
 * The file name of a downloaded package in a package cache: its sha256, which
 * the signed index pins. Two index entries whose files share a base name in
 * different directories (`a/x/same.kpkg`, `b/y/same.kpkg`) can never share a
 * cache file, and the name's length is fixed whatever the index says.
 */
export function cachedPackageName(entry: { readonly sha256: string }): string {
  return `${entry.sha256}.kpkg`;
}
