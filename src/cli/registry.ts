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
  {
    words: ['init'],
    summary: 'create a prefix (configuration, database, cache)',
    load: async () => (await import('./commands/init.js')).default,
  },
  {
    words: ['remote', 'add'],
    summary: 'add a remote repository with its trusted keys',
    load: async () => (await import('./commands/remoteAdd.js')).default,
  },
  {
    words: ['remote', 'list'],
    summary: 'list the remotes and what was last synced',
    load: async () => (await import('./commands/remoteList.js')).default,
  },
  {
    words: ['remote', 'remove'],
    summary: 'remove a remote',
    load: async () => (await import('./commands/remoteRemove.js')).default,
  },
  {
    words: ['remote', 'key', 'add'],
    summary: "trust another key for a remote's index and packages",
    load: async () => (await import('./commands/remoteKeyAdd.js')).default,
  },
  {
    words: ['remote', 'key', 'remove'],
    summary: 'stop trusting a key for a remote',
    load: async () => (await import('./commands/remoteKeyRemove.js')).default,
  },
  {
    words: ['sync'],
    summary: "download and verify every remote's index",
    load: async () => (await import('./commands/sync.js')).default,
  },
  {
    words: ['search'],
    summary: 'search packages by name and summary',
    load: async () => (await import('./commands/search.js')).default,
  },
  {
    words: ['info'],
    summary: 'show an installed or available package',
    load: async () => (await import('./commands/info.js')).default,
  },
  {
    words: ['list'],
    summary: 'list installed, available or upgradable packages',
    load: async () => (await import('./commands/list.js')).default,
  },
  {
    words: ['files'],
    summary: 'list the files an installed package owns, or an available one installs',
    load: async () => (await import('./commands/files.js')).default,
  },
  {
    words: ['owns'],
    summary: 'show which installed package owns a path, or which available ones install it',
    load: async () => (await import('./commands/owns.js')).default,
  },
  {
    words: ['deps'],
    summary: 'show what a package depends on',
    load: async () => (await import('./commands/deps.js')).default,
  },
  {
    words: ['rdeps'],
    summary: 'show which installed packages depend on a package',
    load: async () => (await import('./commands/rdeps.js')).default,
  },
  {
    words: ['install'],
    summary: 'install packages and their dependencies',
    load: async () => (await import('./commands/install.js')).default,
  },
  {
    words: ['autoremove'],
    summary: 'remove dependencies that nothing needs any more',
    load: async () => (await import('./commands/autoremove.js')).default,
  },
  {
    words: ['remove'],
    summary: 'remove installed packages',
    load: async () => (await import('./commands/remove.js')).default,
  },
  {
    words: ['upgrade'],
    summary: 'upgrade installed packages',
    load: async () => (await import('./commands/upgrade.js')).default,
  },
  {
    words: ['mark'],
    summary: 'mark installed packages as requested or as dependencies',
    load: async () => (await import('./commands/mark.js')).default,
  },
  {
    words: ['hold'],
    summary: 'hold installed packages at their version (upgrade leaves them), or list the held ones',
    load: async () => (await import('./commands/hold.js')).default,
  },
  {
    words: ['unhold'],
    summary: 'release held packages, so that upgrade takes them again',
    load: async () => (await import('./commands/unhold.js')).default,
  },
  {
    words: ['cache', 'info'],
    summary: 'show where the package cache is, what it holds and what a clean would free',
    load: async () => (await import('./commands/cacheInfo.js')).default,
  },
  {
    words: ['cache', 'clean'],
    summary: 'delete the cached packages no installed version needs',
    load: async () => (await import('./commands/cacheClean.js')).default,
  },
  {
    words: ['cache', 'prune'],
    summary: 'delete all but the newest versions of each cached package',
    load: async () => (await import('./commands/cachePrune.js')).default,
  },
  {
    words: ['history'],
    summary: 'list the committed transactions',
    load: async () => (await import('./commands/history.js')).default,
  },
  {
    words: ['key', 'generate'],
    summary: 'generate a signing key pair (minisign format)',
    load: async () => (await import('./commands/keyGenerate.js')).default,
  },
  {
    words: ['key', 'show'],
    summary: 'print the id and public key of a key file',
    load: async () => (await import('./commands/keyShow.js')).default,
  },
  {
    words: ['sign'],
    summary: 'sign a file (detached minisign signature)',
    load: async () => (await import('./commands/sign.js')).default,
  },
  {
    words: ['verify'],
    summary: 'check installed files (rpm -V), or a detached signature with --trust',
    load: async () => (await import('./commands/verify.js')).default,
  },
  {
    words: ['bundle'],
    summary: 'pack installed packages and their dependencies into a tarball that runs anywhere without Kiln',
    load: async () => (await import('./commands/bundle.js')).default,
  },
  {
    words: ['bundle', 'verify'],
    summary: 'check an unpacked bundle against its manifest',
    load: async () => (await import('./commands/bundleVerify.js')).default,
  },
  {
    words: ['build'],
    summary: 'build a recipe into a signed package in a repository',
    load: async () => (await import('./commands/build.js')).default,
  },
  {
    words: ['bulk'],
    summary: 'build many recipes in dependency order, past failures, with a report',
    load: async () => (await import('./commands/bulk.js')).default,
  },
  {
    words: ['lint'],
    summary: 'check recipes and explain each problem',
    load: async () => (await import('./commands/lint.js')).default,
  },
  {
    words: ['completion'],
    summary: 'print the shell completion script for bash, zsh or fish',
    load: async () => (await import('./commands/completion.js')).default,
  },
  {
    words: ['debug', 'solve'],
    summary: 'solve a problem in the neutral JSON form and print the plan',
    load: async () => (await import('./commands/debugSolve.js')).default,
  },
  {
    words: ['pack'],
    summary: 'make a package from a staged tree',
    load: async () => (await import('./commands/pack.js')).default,
  },
  {
    words: ['inspect'],
    summary: 'show and verify a package',
    load: async () => (await import('./commands/inspect.js')).default,
  },
  {
    words: ['repo', 'init'],
    summary: 'create a signed repository',
    load: async () => (await import('./commands/repoInit.js')).default,
  },
  {
    words: ['repo', 'add'],
    summary: 'check packages and stage them',
    load: async () => (await import('./commands/repoAdd.js')).default,
  },
  {
    words: ['repo', 'remove'],
    summary: 'unstage packages or retire published ones',
    load: async () => (await import('./commands/repoRemove.js')).default,
  },
  {
    words: ['repo', 'status'],
    summary: 'show what is published and what is staged',
    load: async () => (await import('./commands/repoStatus.js')).default,
  },
  {
    words: ['repo', 'commit'],
    summary: 'publish the staged changes as a new signed index',
    load: async () => (await import('./commands/repoCommit.js')).default,
  },
  {
    words: ['repo', 'verify'],
    summary: 'verify the index and every package',
    load: async () => (await import('./commands/repoVerify.js')).default,
  },
  {
    words: ['repo', 'log'],
    summary: 'list the published commits',
    load: async () => (await import('./commands/repoLog.js')).default,
  },
  {
    words: ['repo', 'prune'],
    summary: 'delete old snapshots and unreferenced packages',
    load: async () => (await import('./commands/repoPrune.js')).default,
  },
  {
    words: ['repo', 'revert'],
    summary: 'publish the package set of an earlier serial again, as a new serial',
    load: async () => (await import('./commands/repoRevert.js')).default,
  },
  {
    words: ['repo', 'push'],
    summary: 'copy the published tree to its mirrors: new files first, the signed pointers last',
    load: async () => (await import('./commands/repoPush.js')).default,
  },
  {
    words: ['repo', 'mirrors'],
    summary: 'show which serial each mirror serves, read where clients read it, and flag one that lags',
    load: async () => (await import('./commands/repoMirrors.js')).default,
  },
  {
    words: ['repo', 'advisory', 'add'],
    summary: 'add OSV advisories (or replace them, by id) for the next commit to publish',
    load: async () => (await import('./commands/repoAdvisoryAdd.js')).default,
  },
  {
    words: ['repo', 'advisory', 'import'],
    summary: "import advisories from an OSV feed or pkgsrc's pkg-vulnerabilities list",
    load: async () => (await import('./commands/repoAdvisoryImport.js')).default,
  },
  {
    words: ['repo', 'advisory', 'triage'],
    summary: "record what an advisory means for this repository's packages (affected, fixed, not affected and why)",
    load: async () => (await import('./commands/repoAdvisoryTriage.js')).default,
  },
  {
    words: ['repo', 'advisory', 'withdraw'],
    summary: 'withdraw an advisory: it stays published, marked withdrawn, and affects nothing',
    load: async () => (await import('./commands/repoAdvisoryWithdraw.js')).default,
  },
  {
    words: ['repo', 'advisory', 'list'],
    summary: "list the repository's advisories and their triage",
    load: async () => (await import('./commands/repoAdvisoryList.js')).default,
  },
  {
    words: ['repo', 'audit'],
    summary: 'list the published packages that an open advisory affects',
    load: async () => (await import('./commands/repoAudit.js')).default,
  },
  {
    words: ['audit'],
    summary: 'list installed packages that open security advisories affect, and how to upgrade',
    load: async () => (await import('./commands/audit.js')).default,
  },
  {
    words: ['repo', 'key', 'add'],
    summary: 'add a key to the repository: a new key root signed by the keys before it',
    load: async () => (await import('./commands/repoKeyAdd.js')).default,
  },
  {
    words: ['repo', 'key', 'retire'],
    summary: 'retire a key of the repository: a new key root without it, signed by the keys before it',
    load: async () => (await import('./commands/repoKeyRetire.js')).default,
  },
  {
    words: ['repo', 'key', 'rotate'],
    summary: "change the repository's keys: a new key root signed by the keys before it",
    load: async () => (await import('./commands/repoKeyRotate.js')).default,
  },
  {
    words: ['serve'],
    summary: "serve a repository's published tree over HTTP",
    load: async () => (await import('./commands/serve.js')).default,
  },
  {
    words: ['farm', 'status'],
    summary: "the build farm's steps by state, and its workers",
    load: async () => (await import('./commands/farmStatus.js')).default,
  },
  {
    words: ['farm', 'why'],
    summary: 'say why a build step is not running, or what it is doing',
    load: async () => (await import('./commands/farmWhy.js')).default,
  },
  {
    words: ['farm', 'log'],
    summary: "print a build step's log, as its worker sent it",
    load: async () => (await import('./commands/farmLog.js')).default,
  },
  {
    words: ['farm', 'worker', 'add'],
    summary: 'add a build farm worker and print its token (shown once)',
    load: async () => (await import('./commands/farmWorkerAdd.js')).default,
  },
  {
    words: ['farm', 'worker', 'revoke'],
    summary: "revoke a build farm worker's token",
    load: async () => (await import('./commands/farmWorkerRevoke.js')).default,
  },
  {
    words: ['farm', 'cancel'],
    summary: 'cancel a build farm build: its steps that have not started, and its running ones at their next heartbeat',
    load: async () => (await import('./commands/farmCancel.js')).default,
  },
  {
    words: ['farm', 'submit'],
    summary: "submit recipes and their build dependencies to the build farm's queue",
    load: async () => (await import('./commands/farmSubmit.js')).default,
  },
  {
    words: ['daemon'],
    summary: 'kilnd: change the prefix for users who are not root, as its policy allows (runs in the foreground)',
    load: async () => (await import('./commands/daemon.js')).default,
  },
  {
    words: ['activity', 'show'],
    summary: "what kilnd's activity ID is doing or did",
    load: async () => (await import('./commands/activityShow.js')).default,
  },
  {
    words: ['activity', 'wait'],
    summary: "wait for kilnd's activity ID to end, showing its progress",
    load: async () => (await import('./commands/activityWait.js')).default,
  },
  {
    words: ['activity', 'cancel'],
    summary: "cancel kilnd's activity ID while it is queued",
    load: async () => (await import('./commands/activityCancel.js')).default,
  },
  {
    words: ['policy', 'check'],
    summary: "say whether kilnd's policy lets a user do something to the prefix, and which rule decides",
    load: async () => (await import('./commands/policyCheck.js')).default,
  },
  {
    words: ['worker'],
    summary: "build the build farm's steps: claim, build, upload unsigned",
    load: async () => (await import('./commands/worker.js')).default,
  },
];

/** The entry whose words begin `argv` (longest match). */
export function findCommand(argv: readonly string[]): CommandEntry | undefined {
  let best: CommandEntry | undefined;
  for (const entry of COMMANDS) {
    if (
      entry.words.every((word, i) => argv[i] === word) &&
      (best === undefined || entry.words.length > best.words.length)
    )
      best = entry;
  }
  return best;
}
