/**
 * What `kiln pack` records about linking: the sonames a package provides and
 * needs, which of them may come from the host, which files need each, and its
 * C library floor — from what the pack input states and what the package's
 * ELF files show, together (docs/format.md, "Pack input").
 *
 * Stated and found are united: a pack input can add what no file shows (a
 * library loaded with dlopen, a soname provided by a script's companion) but
 * cannot hide what a file needs. The glibc floor is the newer of the two, so a
 * stated floor older than the files need never wins.
 */
import type { LinkFacts } from '../elf/index.js';
import { compareVersions, parseVersion } from '../version/index.js';
import type { Needs, PackageMetadata, Target } from './metadata.js';
import { compareText } from './metadata.js';
import { DEFAULT_SYSTEM_LIBRARIES } from './systemLibraries.js';
import { dict } from '../util/dict.js';

export interface LinkMetadata {
  provides: { sonames: string[] };
  needs: Needs;
  target: Target;
  /** What the files changed about the input, for the person packing. */
  notes: string[];
}

/**
 * @example linkMetadata({ provides: { sonames: [] }, needs: { sonames: [] }, target }, linkFacts(elves))
 */
export function linkMetadata(
  stated: Pick<PackageMetadata, 'provides' | 'needs' | 'target'>,
  facts: LinkFacts,
): LinkMetadata {
  const provides = new Set([...stated.provides.sonames, ...facts.provides.keys()]);
  const files: Record<string, string[]> = dict();
  for (const [soname, paths] of facts.needs) if (!provides.has(soname)) files[soname] = paths;
  const sonames = [...new Set([...stated.needs.sonames, ...Object.keys(files)])].sort(compareText);
  // In a pack input `system` allows host libraries; recorded are the ones needed.
  const allowed = new Set([...DEFAULT_SYSTEM_LIBRARIES, ...(stated.needs.system ?? [])]);
  const needs: Needs =
    sonames.length === 0 ? { sonames } : { sonames, system: sonames.filter((soname) => allowed.has(soname)), files };
  const notes: string[] = [];
  let target = stated.target;
  if (
    stated.target.libc === 'glibc' &&
    compareVersions(parseVersion(facts.libcVersion), parseVersion(stated.target.libcVersion)) > 0
  ) {
    notes.push(
      `note: the files need glibc ${facts.libcVersion} (GLIBC_${facts.libcVersion} symbols), newer than the libcVersion ${stated.target.libcVersion} the pack input states: the package says ${facts.libcVersion}`,
    );
    target = { ...stated.target, libcVersion: facts.libcVersion };
  }
  return { provides: { sonames: [...provides].sort(compareText) }, needs, target, notes };
}
