import * as assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isKilnError } from '../errors/index.js';
import type { RecipeBundle } from './recipeFiles.js';
import { MAX_RECIPE_FILES, digestOf, readRecipeBundle, writeRecipeBundle } from './recipeFiles.js';

const scratch = await mkdtemp(join(tmpdir(), 'kiln-recipe-files-'));
after(() => rm(scratch, { recursive: true, force: true }));
let n = 0;

/** A ports tree with one recipe, test/prog: recipe.toml, an executable build.sh, a patch in a subdirectory, a symlink. */
async function tree(): Promise<string> {
  const root = join(scratch, `tree-${n++}`);
  const dir = join(root, 'test', 'prog');
  await mkdir(join(dir, 'patches'), { recursive: true });
  await writeFile(join(root, 'ports.toml'), 'mirrors = []\n');
  await writeFile(join(dir, 'recipe.toml'), 'name = "prog"\n');
  await writeFile(join(dir, 'build.sh'), 'make\n');
  await chmod(join(dir, 'build.sh'), 0o755);
  await writeFile(join(dir, 'patches', 'fix.patch'), '--- a\n+++ b\n');
  await symlink('/etc/passwd', join(dir, 'stolen'));
  return root;
}

const refusedWith = (pattern: RegExp) => (error: unknown) =>
  isKilnError(error) && error.code === 'E_FARM_PROTOCOL' && pattern.test(error.message);

describe('recipe bundles', () => {
  it('round-trips a recipe: the same files, modes and digest; a symlink does not travel', async () => {
    const bundle = await readRecipeBundle(await tree(), 'test/prog');
    assert.deepEqual(
      bundle.files.map((file) => [file.path, file.executable]),
      [
        ['build.sh', true],
        ['patches/fix.patch', false],
        ['recipe.toml', false],
      ],
    );
    assert.equal(bundle.ports, 'mirrors = []\n');
    const copy = await writeRecipeBundle(join(scratch, `copy-${n++}`, 'tree'), bundle);
    assert.equal(await readFile(join(copy, 'test/prog/patches/fix.patch'), 'utf8'), '--- a\n+++ b\n');
    assert.equal((await stat(join(copy, 'test/prog/build.sh'))).mode & 0o777, 0o755);
    assert.deepEqual(await readdir(join(copy, 'test/prog')), ['build.sh', 'patches', 'recipe.toml']);
    assert.equal((await readRecipeBundle(copy, 'test/prog')).digest, bundle.digest);
  });

  it('a change to any file, its mode or ports.toml changes the digest', async () => {
    const root = await tree();
    const before = (await readRecipeBundle(root, 'test/prog')).digest;
    await chmod(join(root, 'test/prog/recipe.toml'), 0o755);
    const moded = (await readRecipeBundle(root, 'test/prog')).digest;
    await writeFile(join(root, 'ports.toml'), 'mirrors = ["https://example.org"]\n');
    const ported = (await readRecipeBundle(root, 'test/prog')).digest;
    assert.equal(new Set([before, moded, ported]).size, 3);
  });

  it('refuses names that leave the tree, a wrong digest and too many files, writing nothing', async () => {
    const good = await readRecipeBundle(await tree(), 'test/prog');
    const hostile = (change: (bundle: RecipeBundle) => void, digest = true): RecipeBundle => {
      const bundle = structuredClone(good);
      change(bundle);
      if (digest) bundle.digest = digestOf(bundle.id, bundle.ports, bundle.files);
      return bundle;
    };
    const cases: [RecipeBundle, RegExp][] = [
      [hostile((b) => (b.files[0]!.path = '../../escape')), /names the file "..\/..\/escape"/],
      [hostile((b) => (b.files[0]!.path = '/etc/cron.d/x')), /names the file/],
      [hostile((b) => (b.files[0]!.path = 'patches/../../x')), /names the file/],
      [hostile((b) => (b.files[0]!.path = '.hidden')), /names the file/],
      [hostile((b) => (b.id = '../etc')), /is not CATEGORY\/NAME/],
      [hostile((b) => (b.id = 'a/b/c')), /is not CATEGORY\/NAME/],
      [
        hostile((b) => (b.files[0]!.content = Buffer.from('rm -rf /').toString('base64')), false),
        /do not match its digest/,
      ],
      [
        hostile((b) => {
          b.files = Array.from({ length: MAX_RECIPE_FILES + 1 }, (_, i) => ({
            path: `f${i}`,
            executable: false,
            content: '',
          }));
        }),
        /more than 256 files/,
      ],
    ];
    for (const [bundle, pattern] of cases) {
      const root = join(scratch, `hostile-${n++}`);
      await assert.rejects(writeRecipeBundle(root, bundle), refusedWith(pattern), pattern.source);
      await assert.rejects(stat(root), /ENOENT/, 'nothing was written');
    }
  });

  it('refuses to hand out a recipe directory that is too big', async () => {
    const root = await tree();
    await writeFile(join(root, 'test/prog/huge.tar'), Buffer.alloc(9 * 1024 * 1024));
    await assert.rejects(
      readRecipeBundle(root, 'test/prog'),
      (error: unknown) =>
        isKilnError(error) && error.code === 'E_RECIPE' && /more than 256 files or/.test(error.message),
    );
  });
});
