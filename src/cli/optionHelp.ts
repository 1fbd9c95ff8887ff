/**
 * What each command-line option means, for `--help`, the man pages and the
 * shell completions: one table, so that the three cannot disagree. An option
 * means the same in every command unless the command's own entry says
 * otherwise (`--key` is a public key for `remote add`, a secret one for `sign`).
 */
import type { Command, OptionTable } from './command.js';
import { COMMON_OPTIONS } from './command.js';

/** One option's documentation: the placeholder of its value (none for a flag) and one line of text. */
export interface OptionDoc {
  readonly value?: string;
  readonly text: string;
  /** The values a completion may offer, when they are a fixed set. */
  readonly choices?: readonly string[];
  /** The value is a path (completions offer files). */
  readonly path?: 'file' | 'directory';
}

/** Options every command takes (COMMON_OPTIONS plus --password-file). */
export const GLOBAL_OPTIONS: OptionTable = { ...COMMON_OPTIONS, 'password-file': { type: 'string' } };

const GLOBAL_DOCS: Readonly<Record<string, OptionDoc>> = {
  prefix: {
    value: 'DIR',
    text: 'the prefix to work on (else $KILN_PREFIX, else / for root and ~/.local/kiln for others)',
    path: 'directory',
  },
  json: { text: 'print the result as JSON on stdout (errors as JSON on stderr)' },
  'no-wait': { text: 'fail with E_LOCKED instead of waiting while another process holds the lock' },
  'password-file': {
    value: 'FILE',
    text: "read the secret key's password from FILE (else $KILN_KEY_PASSWORD)",
    path: 'file',
  },
  help: { text: 'show this help' },
};

/** The options of `repo key add`, `retire` and `rotate` (one command told three ways). */
const KEY_ROOT_OPTIONS: Readonly<Record<string, OptionDoc>> = {
  add: { value: 'PUBKEY', text: 'a public key file to add (repeatable)', path: 'file' },
  retire: { value: 'KEYID', text: 'a key id to retire (repeatable)' },
  threshold: { value: 'N', text: "how many of the new root's keys must sign the next change (default: as now)" },
  key: { value: 'SECRET', text: 'a secret key file to sign the change with (repeatable)', path: 'file' },
  'signing-key': { value: 'SECRET', text: 'the secret key file that signs indexes from now on', path: 'file' },
  'expire-days': { value: 'N', text: 'days until the new key root expires (default 365)' },
};

const SHARED_DOCS: Readonly<Record<string, OptionDoc>> = {
  'dry-run': { text: 'show the plan and change nothing' },
  detach: { text: 'through kilnd: queue the change and return at once (kiln activity wait ID follows it)' },
  yes: { text: 'proceed without asking' },
  'allow-advisory': {
    value: 'ID',
    text: 'install packages that security advisory ID affects all the same (repeatable)',
  },
  build: {
    value: 'WHEN',
    text: 'build from recipes what no binary offers: never (default without a ports tree), missing, always',
    choices: ['never', 'missing', 'always'],
  },
  recipes: {
    value: 'DIR',
    text: 'the ports tree (else $KILN_RECIPES, ./recipes, or the tree shipped with Kiln)',
    path: 'directory',
  },
  distfiles: {
    value: 'DIR',
    text: 'a directory of source tarballs to try after the upstream URL and mirrors (repeatable)',
    path: 'directory',
  },
  mirror: { value: 'URL', text: 'a mirror to fetch sources from before the upstream URL (repeatable)' },
  work: {
    value: 'DIR',
    text: "where build trees are made (default: a directory under the system's temporary directory)",
    path: 'directory',
  },
  jobs: { value: 'N', text: 'parallel jobs for the build scripts (default: the number of CPUs)' },
  keep: { text: 'keep the build tree after a successful build' },
  repo: { value: 'DIR', text: 'the repository to build into and publish in (kiln repo init DIR)', path: 'directory' },
  cpu: {
    value: 'LEVEL',
    text: 'the x86-64 level to build for',
    choices: ['x86-64', 'x86-64-v2', 'x86-64-v3', 'x86-64-v4'],
  },
  trust: { value: 'PUBKEY', text: 'a public key file to check signatures with (repeatable)', path: 'file' },
  'expire-days': {
    value: 'N',
    text: 'days until the published index expires and clients refuse it (freeze protection)',
  },
  variant: { value: 'ID', text: 'only the variant with this id' },
  catalog: {
    value: 'URL|FILE',
    text: "the build farm's catalog: a postgresql:// URL, or an SQLite file (else $KILN_FARM_CATALOG)",
  },
};

/** Per command (its words joined by a space): options whose meaning is its own. */
const COMMAND_DOCS: Readonly<Record<string, Readonly<Record<string, OptionDoc>>>> = {
  'farm log': { attempt: { value: 'N', text: "this attempt's log instead of the latest attempt's" } },
  init: {
    system: { text: 'the prefix is the root of a system: accounts are created and owners applied (the default for /)' },
    user: { text: 'the prefix belongs to the user running Kiln: files are theirs (the default elsewhere)' },
  },
  'remote add': {
    key: {
      value: 'PUBKEY',
      text: 'a trusted public key file or its base64 line (repeatable, while keys rotate)',
      path: 'file',
    },
    priority: {
      value: 'N',
      text: 'from -1000 to 1000; the higher wins when remotes offer the same package (default 0)',
    },
    mirror: {
      value: 'URL',
      text: 'another URL of the same repository, tried when the first fails, is slow or is behind (repeatable)',
    },
  },
  list: {
    installed: { text: 'installed packages (the default)' },
    available: { text: 'packages the synced remotes offer' },
    upgradable: { text: 'installed packages with a newer version available' },
    orphans: { text: 'dependencies nothing requested needs any more (what autoremove removes)' },
    quiet: { text: 'names only, one per line' },
    verbose: { text: 'also the variant, where it came from, when it was installed and its size' },
  },
  'cache prune': { keep: { value: 'N', text: 'how many of the newest versions of each package stay' } },
  files: { available: { text: "the newest available package's files, from the repository's file list" } },
  owns: { available: { text: 'the available packages that install PATH, from the file lists' } },
  mark: {
    requested: { text: 'as asked for by name: autoremove keeps them' },
    dependency: { text: 'as pulled in for others: autoremove removes them once nothing needs them' },
  },
  install: {
    reinstall: { text: 'install again what is already installed at the same version' },
    'allow-unsigned': { text: 'install package files given even when no trusted key signed them' },
  },
  remove: { cascade: { text: 'also remove the installed packages that need them' } },
  history: { limit: { value: 'N', text: 'only the newest N transactions' } },
  'key generate': {
    out: { value: 'DIR', text: 'the directory to write the key pair into', path: 'directory' },
    name: { value: 'BASENAME', text: "the key files' base name (default kiln)" },
    encrypt: { text: 'encrypt the secret key with a password (scrypt)' },
    force: { text: 'overwrite existing key files' },
  },
  sign: {
    key: { value: 'SECRETKEY', text: 'the secret key file to sign with', path: 'file' },
    out: { value: 'SIGFILE', text: 'where to write the signature (default FILE.minisig)', path: 'file' },
    'trusted-comment': { value: 'TEXT', text: 'the signed comment (default: the file name and time)' },
  },
  verify: {
    sig: { value: 'SIGFILE', text: 'the signature file (default FILE.minisig)', path: 'file' },
    unowned: { text: 'also list files no package owns (the default in a user prefix)' },
  },
  build: {
    with: { value: 'OPT,...', text: 'turn these recipe options on (repeatable)' },
    without: { value: 'OPT,...', text: 'turn these recipe options off (repeatable)' },
  },
  bundle: {
    out: { value: 'FILE', text: 'the tarball to write: .tar.zst, .tar.gz (or .tgz) or .tar', path: 'file' },
    with: {
      value: 'CLASS',
      text: 'keep what trimming leaves out: dev (headers, static libraries, pkg-config) or docs (repeatable)',
      choices: ['dev', 'docs'],
    },
    'relocate-to': { value: 'DIR', text: 'write the files already relocated for DIR on the target', path: 'directory' },
    'from-remotes': { text: 'take the packages from the remotes (a throw-away prefix), not from this prefix' },
  },
  bulk: {
    all: { text: 'build every recipe of the ports tree' },
    'accept-licenses': { value: 'ID,...', text: 'the licenses to build (else accept-licenses in ports.toml)' },
    rebuild: { text: 'build again what the repository already has with the same options' },
    'report-dir': { value: 'DIR', text: 'where to write the text and JSON reports', path: 'directory' },
    workers: { value: 'N', text: 'builds run at once, each by an in-process worker of the queue (default 1)' },
  },
  'farm submit': {
    all: { text: 'submit every recipe of the ports tree' },
    repo: {
      value: 'DIR',
      text: 'the repository the farm publishes into: what it has for the target is not built again',
      path: 'directory',
    },
    cpu: { value: 'LEVEL', text: "the CPU level to build for (default: the architecture's baseline)" },
    arch: { value: 'ARCH', text: "the architecture to build for (default: this machine's)" },
    libc: { value: 'LIBC', text: "the C library to build for, glibc or musl (default: this machine's)" },
    submitter: { value: 'NAME', text: 'who submits, for fair shares between submitters (default: $USER)' },
    priority: { value: 'N', text: 'higher runs first, 0 to 1000 (default 0)' },
    attempts: { value: 'N', text: 'attempts per step before it fails (default 3)' },
    'accept-licenses': { value: 'ID,...', text: 'the licenses to build (else accept-licenses in ports.toml)' },
    note: { value: 'TEXT', text: 'a note kept with the build' },
  },
  daemon: {
    socket: { value: 'PATH', text: 'the socket to listen on (default: PREFIX/run/kiln/kilnd.sock)', path: 'file' },
    policy: { value: 'FILE', text: "the policy file (default: the prefix's etc/kiln/policy.toml)", path: 'file' },
  },
  'activity show': {
    socket: { value: 'PATH', text: "kilnd's socket (default: PREFIX/run/kiln/kilnd.sock)", path: 'file' },
  },
  'activity wait': {
    socket: { value: 'PATH', text: "kilnd's socket (default: PREFIX/run/kiln/kilnd.sock)", path: 'file' },
  },
  'activity cancel': {
    socket: { value: 'PATH', text: "kilnd's socket (default: PREFIX/run/kiln/kilnd.sock)", path: 'file' },
  },
  'policy check': {
    remote: { value: 'NAME', text: 'the remote the packages would come from, or the remote added' },
    policy: { value: 'FILE', text: "the policy file (default: the prefix's etc/kiln/policy.toml)", path: 'file' },
  },
  worker: {
    farm: { value: 'URL', text: 'the coordinator: the URL of "kiln serve DIR --farm CATALOG"' },
    token: { value: 'TOKEN', text: "this worker's token (else $KILN_WORKER_TOKEN, which keeps it out of ps)" },
    jobs: { value: 'N', text: 'steps built at once (default 1)' },
    'build-jobs': { value: 'N', text: "each build's parallel make jobs (default: the CPUs shared among --jobs)" },
    'until-idle': { text: "stop once no step of this machine's target is left to finish" },
  },
  pack: {
    meta: { value: 'META', text: 'the package metadata (.toml or .json)', path: 'file' },
    out: { value: 'DIR', text: 'the directory to write the package into', path: 'directory' },
    key: { value: 'SECRETKEY', text: 'sign the package with this secret key', path: 'file' },
    level: { value: 'N', text: 'the zstd compression level, 1 to 19' },
  },
  'repo init': {
    key: { value: 'SECRETKEY', text: "the repository's signing key (kiln key generate)", path: 'file' },
    name: { value: 'NAME', text: "the repository's name, shown to clients" },
  },
  'repo add': { sign: { text: "sign the packages with the repository's key while staging them" } },
  'repo commit': {
    message: { value: 'MESSAGE', text: "what this commit publishes, kept in the repository's log" },
    'allow-empty': { text: 'publish even with nothing staged (renews the expiry time)' },
  },
  'repo revert': {
    message: {
      value: 'MESSAGE',
      text: 'what this commit publishes, kept in the repository\'s log (default: "revert to serial N")',
    },
  },
  'repo push': { prune: { text: "also delete the mirror's files that the published tree no longer has" } },
  'repo verify': { quick: { text: 'check hashes and signatures without decompressing the packages' } },
  serve: {
    listen: {
      value: 'HOST:PORT',
      text: 'where to listen: HOST:PORT, [IPV6]:PORT, :PORT (every interface) or PORT (default 127.0.0.1:8080)',
    },
    'access-log': {
      value: 'FILE',
      text: 'append the access log (Combined Log Format) to FILE, reopened on SIGHUP (default: stdout)',
      path: 'file',
    },
    'max-connections': { value: 'N', text: 'connections open at once; more are closed at once (default 1024)' },
    'header-timeout': { value: 'SECONDS', text: 'how long a client may take to send its request headers (default 10)' },
    'idle-timeout': {
      value: 'SECONDS',
      text: 'how long a connection may pass no data either way before it is closed (default 30)',
    },
    'no-catalog': { text: 'serve the published tree only, without the web catalog and its JSON API' },
    farm: {
      value: 'CATALOG',
      text: "also be the build farm's coordinator for this catalog (postgresql://… or an SQLite file)",
    },
    recipes: { value: 'DIR', text: "the ports tree the farm's steps are built from", path: 'directory' },
    lease: { value: 'SECONDS', text: 'how long a worker that stops heartbeating keeps its step (default 60)' },
    'retry-after': {
      value: 'SECONDS',
      text: 'the wait before a failed step runs again (default 30), doubled at each attempt',
    },
  },
  'repo prune': { keep: { value: 'N', text: 'how many of the newest published indexes to keep' } },
  'repo key rotate': KEY_ROOT_OPTIONS,
  'repo key add': KEY_ROOT_OPTIONS,
  'repo key retire': KEY_ROOT_OPTIONS,
  'repo advisory import': {
    format: {
      value: 'osv|pkgsrc',
      text: "what FILE is: OSV JSON or pkgsrc's pkg-vulnerabilities (told from the text by default)",
    },
  },
  'repo advisory triage': {
    status: { value: 'affected|fixed|not-affected', text: 'what the advisory means for these packages' },
    versions: { value: 'RANGE', text: 'the versions it is said of, a Kiln range (default: every version)' },
    variant: { value: 'ID', text: 'the variant it is said of (default: every variant)' },
    justification: { value: 'TEXT', text: 'why (required for not-affected)' },
    clear: { text: 'forget what was said of this advisory and name' },
  },
};

/** One row of a command's option list. */
export interface OptionRow {
  readonly name: string;
  readonly short: string | undefined;
  readonly doc: OptionDoc;
  readonly global: boolean;
  readonly multiple: boolean;
}

/**
 * Every option `command` takes, its own first, then the global ones, each
 * with its documentation. Throws when an option has none, so that a new
 * option cannot reach users undocumented (a test runs this on every command).
 */
export function optionRows(command: Pick<Command, 'words' | 'options'>): OptionRow[] {
  const own = COMMAND_DOCS[command.words.join(' ')] ?? {};
  const rows: OptionRow[] = [];
  const add = (table: OptionTable, global: boolean): void => {
    for (const [name, spec] of Object.entries(table)) {
      if (!global && Object.hasOwn(GLOBAL_OPTIONS, name)) continue;
      const doc =
        (Object.hasOwn(own, name) ? own[name] : undefined) ??
        (Object.hasOwn(SHARED_DOCS, name) ? SHARED_DOCS[name] : undefined) ??
        (Object.hasOwn(GLOBAL_DOCS, name) ? GLOBAL_DOCS[name] : undefined);
      if (doc === undefined)
        throw new Error(`option --${name} of "kiln ${command.words.join(' ')}" has no documentation in optionHelp.ts`);
      if ((spec.type === 'string') !== (doc.value !== undefined))
        throw new Error(
          `option --${name} of "kiln ${command.words.join(' ')}": its documentation and its type disagree on taking a value`,
        );
      rows.push({ name, short: spec.short, doc, global, multiple: spec.multiple === true });
    }
  };
  add(command.options, false);
  add(GLOBAL_OPTIONS, true);
  return rows;
}

/** How an option is written in help: `-y, --yes` or `--prefix DIR`. */
export function optionFlags(row: OptionRow): string {
  const long = `--${row.name}${row.doc.value === undefined ? '' : ` ${row.doc.value}`}`;
  return row.short === undefined ? long : `-${row.short}, ${long}`;
}
