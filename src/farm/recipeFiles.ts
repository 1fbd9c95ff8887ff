/**
 * A recipe as the farm hands it to a worker: the files of its directory and
 * the ports tree's `ports.toml`, each with its mode, and one sha256 over all
 * of them. The coordinator records the digest when a build is submitted and
 * gives a worker exactly those files (a recipe edited since is refused, not
 * built silently), so a worker needs no copy of the ports tree. The worker
 * writes them into a throw-away tree of its own; every name is checked first.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PORTS_CONFIG_FILE } from '../build/portsTree.js';
import { KilnError } from '../errors/index.js';

export interface RecipeFile {
  /** Relative to the recipe's directory, `/`-separated. */
  path: string;
  /** Executable or not; nothing else of the mode travels. */
  executable: boolean;
  /** The content, base64. */
  content: string;
}

export interface RecipeBundle {
  /** CATEGORY/NAME. */
  id: string;
  /** The tree's ports.toml (empty when it has none). */
  ports: string;
  files: RecipeFile[];
  /** sha256 of the id, ports.toml and every file, in order (digestOf). */
  digest: string;
}

/** Bounds on what a recipe directory may hold; a recipe is a few small text files. */
export const MAX_RECIPE_FILES = 256;
export const MAX_RECIPE_BYTES = 8 * 1024 * 1024;
const DEPTH = 8;

/** Reads the recipe `id` (CATEGORY/NAME) of the tree at `root`. */
export async function readRecipeBundle(root: string, id: string): Promise<RecipeBundle> {
  const files: RecipeFile[] = [];
  let bytes = 0;
  const walk = async (dir: string, relative: string, depth: number): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const shown = relative === '' ? name : `${relative}/${name}`;
      const stat = await lstat(path);
      if (stat.isDirectory()) {
        if (depth >= DEPTH) throw tooBig(id, `directories nest deeper than ${DEPTH}`);
        await walk(path, shown, depth + 1);
      } else if (stat.isFile()) {
        bytes += stat.size;
        if (files.length >= MAX_RECIPE_FILES || bytes > MAX_RECIPE_BYTES)
          throw tooBig(id, `it has more than ${MAX_RECIPE_FILES} files or ${MAX_RECIPE_BYTES} bytes`);
        files.push({
          path: shown,
          executable: (stat.mode & 0o111) !== 0,
          content: (await readFile(path)).toString('base64'),
        });
      }
      // Symbolic links and other kinds are not part of a recipe a worker gets.
    }
  };
  await walk(join(root, id), '', 0);
  const ports = await readFile(join(root, PORTS_CONFIG_FILE), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  return { id, ports, files, digest: digestOf(id, ports, files) };
}

/** The digest of a recipe bundle's content. */
export function digestOf(id: string, ports: string, files: readonly RecipeFile[]): string {
  const hash = createHash('sha256');
  const field = (text: string) => {
    const bytes = Buffer.from(text);
    hash.update(`${bytes.length}:`);
    hash.update(bytes);
  };
  field(id);
  field(ports);
  for (const file of files) {
    field(file.path);
    field(file.executable ? 'x' : '-');
    field(file.content);
  }
  return hash.digest('hex');
}

const SEGMENT = /^[A-Za-z0-9_+][A-Za-z0-9._+-]*$/;

/**
 * Writes a bundle the coordinator sent as a ports tree under `root` (which
 * must not exist yet); returns the tree's root. The bundle is checked
 * whole first: its digest, and every name (no `..`, no absolute path, no
 * hidden trick), so nothing is written outside `root`.
 */
export async function writeRecipeBundle(root: string, bundle: RecipeBundle): Promise<string> {
  const idParts = bundle.id.split('/');
  if (idParts.length !== 2 || !idParts.every((part) => SEGMENT.test(part)))
    throw badBundle(bundle.id, `its name ${JSON.stringify(bundle.id)} is not CATEGORY/NAME`);
  if (!Array.isArray(bundle.files) || bundle.files.length > MAX_RECIPE_FILES)
    throw badBundle(bundle.id, `it has more than ${MAX_RECIPE_FILES} files`);
  for (const file of bundle.files) {
    const parts = typeof file.path === 'string' ? file.path.split('/') : [];
    if (parts.length === 0 || parts.length > DEPTH + 1 || !parts.every((part) => SEGMENT.test(part)))
      throw badBundle(bundle.id, `it names the file ${JSON.stringify(file.path)}`);
  }
  if (digestOf(bundle.id, bundle.ports, bundle.files) !== bundle.digest)
    throw badBundle(bundle.id, 'its files do not match its digest');
  await mkdir(join(root, '..'), { recursive: true });
  await mkdir(root);
  await writeFile(join(root, PORTS_CONFIG_FILE), bundle.ports);
  const dir = join(root, ...idParts);
  await mkdir(dir, { recursive: true });
  for (const file of bundle.files) {
    const path = join(dir, ...file.path.split('/'));
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, Buffer.from(file.content, 'base64'), { flag: 'wx', mode: file.executable ? 0o755 : 0o644 });
  }
  return root;
}

function tooBig(id: string, why: string): KilnError {
  return new KilnError('E_RECIPE', `cannot hand recipe ${id} to a worker: ${why}`, {
    hint: 'a recipe directory holds its recipe.toml, build script and patches; keep sources in distfiles',
  });
}

function badBundle(id: string, why: string): KilnError {
  return new KilnError('E_FARM_PROTOCOL', `refusing the recipe ${id} the coordinator sent: ${why}`, {
    hint: 'the coordinator and this worker disagree; check that both run the same Kiln',
  });
}
