/**
 * Writes Kiln's man pages into a directory: `node dist/src/cli/writeManPages.js DIR`
 * (scripts/setup.sh writes them to dist/man, which package.json names as the
 * package's man directory, so `npm install -g` installs them).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandPage, mainPage, markdownPage, type ManPage } from './manPages.js';
import { COMMANDS } from './registry.js';

/** Every page: kiln(1), kiln-WORDS(1) for each command, kiln.toml(5). */
export async function manPages(): Promise<ManPage[]> {
  const root = new URL('../../../', import.meta.url);
  const { version } = JSON.parse(await readFile(new URL('package.json', root), 'utf8')) as { version: string };
  const commands = await Promise.all(COMMANDS.map((entry) => entry.load()));
  const config = await readFile(new URL('docs/config.md', root), 'utf8');
  return [
    mainPage(commands, version),
    ...commands.map((command) => commandPage(command, version)),
    markdownPage('kiln.toml.5', 5, config, 'the configuration of a Kiln prefix, and its layout', version),
  ];
}

/** Replaces `dir/man1` and `dir/man5` with the pages. */
export async function writeManPages(dir: string): Promise<string[]> {
  const written: string[] = [];
  await rm(join(dir, 'man1'), { recursive: true, force: true });
  await rm(join(dir, 'man5'), { recursive: true, force: true });
  for (const page of await manPages()) {
    const section = join(dir, `man${page.file.slice(-1)}`);
    await mkdir(section, { recursive: true });
    await writeFile(join(section, page.file), page.text);
    written.push(join(section, page.file));
  }
  return written;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (dir === undefined) {
    process.stderr.write('usage: node writeManPages.js DIR\n');
    process.exit(2);
  }
  await writeManPages(dir);
}
