/**
 * Small ports trees for build tests: a signed repository, a source tarball
 * in a distfiles directory, and recipes whose build script is given inline.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ok } from './client.js';

/** A signing key in DIR/keys and an empty signed repository in DIR/repo. */
export async function newRepository(dir: string, name: string): Promise<void> {
  await ok(['key', 'generate', '--out', 'keys'], { cwd: dir });
  await ok(['repo', 'init', 'repo', '--key', 'keys/kiln.key', '--name', name], { cwd: dir });
}

/** DISTFILES/prog-1.0.tar.gz holding prog-1.0/FILE for each of `files`; returns its sha256. */
export async function sourceTarball(distfiles: string, files: Readonly<Record<string, string>>): Promise<string> {
  await mkdir(join(distfiles, 'src', 'prog-1.0'), { recursive: true });
  for (const [file, content] of Object.entries(files))
    await writeFile(join(distfiles, 'src', 'prog-1.0', file), content);
  execFileSync('tar', ['-czf', join(distfiles, 'prog-1.0.tar.gz'), '-C', join(distfiles, 'src'), 'prog-1.0']);
  return createHash('sha256')
    .update(await readFile(join(distfiles, 'prog-1.0.tar.gz')))
    .digest('hex');
}

/** DIR/recipe.toml (NAME 1.0 from prog-1.0.tar.gz) and DIR/build.sh holding `script`. */
export async function writeRecipe(
  dir: string,
  name: string,
  sha: string,
  script: string,
  /** `options`: the lines of its [options] table, as TOML. */
  extra: { buildDepends?: string[]; license?: string; options?: string } = {},
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const depends = extra.buildDepends === undefined ? '' : `build-depends = ${JSON.stringify(extra.buildDepends)}\n`;
  await writeFile(
    join(dir, 'recipe.toml'),
    `name = "${name}"\nversion = "1.0"\nsummary = "a test recipe"\nlicense = "${extra.license ?? 'MIT'}"\n${depends}\n[[source]]\nurl = "https://example.invalid/prog-1.0.tar.gz"\nsha256 = "${sha}"\n${extra.options === undefined ? '' : `\n[options]\n${extra.options}\n`}`,
  );
  await writeFile(join(dir, 'build.sh'), script);
}
