/**
 * Every command, in one plain list. Handlers are loaded on demand so that
 * `kiln --version` and `kiln help` start without loading native modules.
 */
import type { Command } from './command.js';

export interface CommandEntry {
  words: string[];
  summary: string;
  load: () => Promise<Command>;
}

export const COMMANDS: CommandEntry[] = [
  { words: ['key', 'generate'], summary: 'generate a signing key pair (minisign format)', load: async () => (await import('./commands/keyGenerate.js')).default },
  { words: ['key', 'show'], summary: 'print the id and public key of a key file', load: async () => (await import('./commands/keyShow.js')).default },
  { words: ['sign'], summary: 'sign a file (detached minisign signature)', load: async () => (await import('./commands/sign.js')).default },
  { words: ['verify'], summary: 'verify a detached signature', load: async () => (await import('./commands/verify.js')).default },
  { words: ['pack'], summary: 'make a package from a staged tree', load: async () => (await import('./commands/pack.js')).default },
  { words: ['inspect'], summary: 'show and verify a package', load: async () => (await import('./commands/inspect.js')).default },
  { words: ['repo', 'init'], summary: 'create a signed repository', load: async () => (await import('./commands/repoInit.js')).default },
  { words: ['repo', 'add'], summary: 'check packages and stage them', load: async () => (await import('./commands/repoAdd.js')).default },
  { words: ['repo', 'remove'], summary: 'unstage packages or retire published ones', load: async () => (await import('./commands/repoRemove.js')).default },
  { words: ['repo', 'status'], summary: 'show what is published and what is staged', load: async () => (await import('./commands/repoStatus.js')).default },
  { words: ['repo', 'commit'], summary: 'publish the staged changes as a new signed index', load: async () => (await import('./commands/repoCommit.js')).default },
  { words: ['repo', 'verify'], summary: 'verify the index and every package', load: async () => (await import('./commands/repoVerify.js')).default },
  { words: ['repo', 'log'], summary: 'list the published commits', load: async () => (await import('./commands/repoLog.js')).default },
  { words: ['repo', 'prune'], summary: 'delete old snapshots and unreferenced packages', load: async () => (await import('./commands/repoPrune.js')).default },
];

/** The entry whose words begin `argv` (longest match). */
export function findCommand(argv: readonly string[]): CommandEntry | undefined {
  let best: CommandEntry | undefined;
  for (const entry of COMMANDS) {
    if (entry.words.every((word, i) => argv[i] === word) && (best === undefined || entry.words.length > best.words.length)) best = entry;
  }
  return best;
}
