/**
 * `kiln build`: one recipe + options → a signed package in a repository.
 *
 *   fetch sources → unpack → patch → install build dependencies into the
 *   placeholder prefix (from the repository; missing ones are built first)
 *   → run the build script in the sandbox (DESTDIR staging, logged; only
 *   the toolchain and the prefix visible, buildSandbox.ts) → post-process (ELF run
 *   paths, library accounting, libc floor) → pack with the relocation table →
 *   sign → `repo add` + `repo commit`.
 *
 * The work tree of a failed build is kept, and the error names its log.
 */
import { shellQuote } from '../util/shellQuote.js';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { copyFile, lstat, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { availableParallelism, homedir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { KilnError } from '../errors/index.js';
import type { Dependency } from '../format/index.js';
import { fullVersion, pack } from '../format/index.js';
import { initPrefix, openPrefix } from '../install/index.js';
import type { IndexEntry } from '../repo/index.js';
import { openRepository, publishPackages, repositoryPaths } from '../repo/index.js';
import { loadSigningKey, readCurrentIndex } from '../repo/openRepository.js';
import { detectHost, targetProblem } from '../solver/index.js';
import type { SecretKey } from '../sign/index.js';
import { formatRange, parseRange, satisfies } from '../version/index.js';
import { buildEnvironment, makePlaceholder } from './buildEnvironment.js';
import type { BuildIsolation } from './buildSandbox.js';
import { ALLOW_UNSANDBOXED, chooseIsolation, prepareSandbox } from './buildSandbox.js';
import { abandonWorkTree, claimWorkTree, cleanInterrupted } from './cleanInterrupted.js';
import type { FetchEvent } from './fetchSource.js';
import { fetchSource } from './fetchSource.js';
import { findHiddenHostFiles } from './hiddenHostFiles.js';
import { TOOLCHAIN_ROOTS } from './toolchainPackages.js';
import type { PortsTree } from './portsTree.js';
import { loadRecipe, openPortsTree } from './portsTree.js';
import type { LibraryProvider } from './postProcess.js';
import { DEFAULT_SYSTEM_LIBRARIES } from '../format/systemLibraries.js';
import { postProcess } from './postProcess.js';
import type { Recipe } from './recipe.js';
import { activeDependencies, formatOptions, recipeId, resolveOptions } from './recipe.js';

export interface BuildRequest {
  /** `CATEGORY/NAME` or `NAME`. */
  recipe: string;
  enable?: readonly string[];
  disable?: readonly string[];
}

export interface BuildOptions {
  /** The ports tree. */
  recipes: string;
  /** The repository the package goes into, and where build dependencies come from. */
  repo: string;
  /** Work trees, placeholder prefixes and logs (default ~/.cache/kiln/build). */
  workDir?: string;
  /** Fetched sources (default ~/.cache/kiln/distfiles). */
  cacheDir?: string;
  /** Local distfiles directories, tried after every URL. */
  distfiles?: readonly string[];
  /** Distfile mirrors (base URLs), tried after each source's own URLs. */
  mirrors?: readonly string[];
  /** CPU level to compile for (default: the baseline of the host's architecture). */
  cpu?: string;
  jobs?: number;
  /** Keep the work tree of a successful build too. */
  keep?: boolean;
  /** Password of the repository's signing key, when it is encrypted. */
  password?: string;
  /** Build dependencies missing from the repository (default true). */
  buildMissing?: boolean;
  /** The environment the build starts from (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Build without a sandbox where none can be set up (no bubblewrap, user
   * namespaces disabled) instead of refusing with E_SANDBOX. Default: true
   * when the environment has KILN_ALLOW_UNSANDBOXED=1.
   */
  allowUnsandboxed?: boolean;
  onEvent?: (event: BuildEvent) => void;
  /** Called with the path of each build's log when it is opened (a farm worker sends it on as it grows). */
  onLogFile?: (path: string) => void;
  /** Stops the build: its running command's whole process group is killed and the build fails. */
  signal?: AbortSignal;
  /** Build for a build farm's coordinator instead of into a local repository (farm/farmWorker.ts). */
  farm?: FarmDelivery;
}

/**
 * A farm worker's build: build dependencies come from the coordinator's
 * published repository, and the package is packed unsigned and handed to
 * `deliver` (the coordinator checks, signs and publishes it: the signing key
 * never reaches a worker). No local repository is read or written.
 */
export interface FarmDelivery {
  dependencies: { url: string; keys: readonly string[] };
  /** Returns the package's path in the coordinator's repository. */
  deliver(packagePath: string): Promise<string>;
}

export type BuildStep = 'fetch' | 'unpack' | 'patch' | 'dependencies' | 'build' | 'post-process' | 'pack' | 'publish';

export type BuildEvent =
  | { kind: 'start'; recipe: string; version: string; options: Record<string, boolean>; reason: string }
  | { kind: 'step'; recipe: string; step: BuildStep; detail?: string }
  | { kind: 'fetch'; recipe: string; event: FetchEvent }
  | { kind: 'done'; recipe: string; result: BuildResult }
  | { kind: 'failed'; recipe: string; log: string; message: string }
  | { kind: 'cleaned'; workTrees: string[] };

export interface BuildResult {
  recipe: string;
  name: string;
  version: string;
  options: Record<string, boolean>;
  variant: string;
  cpu: string;
  libcVersion: string;
  /** The package file inside the repository. */
  package: string;
  /** The build log, kept beside the other logs of this work directory. */
  log: string;
  seconds: number;
  depends: Dependency[];
  provides: string[];
  /** How the build script was isolated: `none` only where no sandbox could be set up and that was allowed. */
  sandbox: BuildIsolation['kind'];
  /** Notes of the build and post-processing (no sandbox, dropped run-path entries …). */
  notes: string[];
}

/** Lines of the log shown when a build step fails. */
const FAILURE_TAIL_LINES = 25;
/** Lines at the end of a failed build's log searched for what it did not find (a failed compile, then make's lines). */
const EXPLAINED_LINES = 200;

/** The default work directory: `$XDG_CACHE_HOME/kiln/build` or `~/.cache/kiln/build`. */
export function defaultWorkDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return join(env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'kiln', 'build');
}

/** The default download cache for sources. */
export function defaultCacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return join(env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'kiln', 'distfiles');
}

/** The CPU level builds target when none is asked for: the baseline of the architecture. */
export function defaultCpu(arch: string = detectHost().arch): string {
  return arch === 'x86_64' ? 'x86-64' : 'generic';
}

/**
 * Build `request` into `options.repo`, building missing build dependencies
 * first. Returns one result per package built, the requested one last.
 * @example const results = await buildPackage({ recipe: 'www/nginx', enable: ['uwsgi'] }, { recipes: 'recipes', repo: '/srv/binhost', distfiles: ['/srv/distfiles'] })
 */
export async function buildPackage(request: BuildRequest, options: BuildOptions): Promise<BuildResult[]> {
  const tree = await openPortsTree(options.recipes);
  // The repository and its signing key are checked before anything is built, not after; the key is loaded once.
  const secretKey =
    options.farm === undefined
      ? await loadSigningKey(await openRepository(options.repo), { password: options.password })
      : undefined;
  const env = options.env ?? process.env;
  const isolation = await chooseIsolation(request.recipe, {
    allowUnsandboxed: options.allowUnsandboxed ?? env[ALLOW_UNSANDBOXED] === '1',
    path: env['PATH'] ?? '',
  });
  const cleaned = await cleanInterrupted(resolve(options.workDir ?? defaultWorkDir(options.env)));
  if (cleaned.length > 0) options.onEvent?.({ kind: 'cleaned', workTrees: cleaned });
  const session: BuildSession = { tree, options, secretKey, isolation, results: [] };
  await buildOne(session, request, [], 'requested');
  return session.results;
}

/** What every build of one `buildPackage` call shares. */
interface BuildSession {
  tree: PortsTree;
  options: BuildOptions;
  /** Undefined for a farm build: its package is packed unsigned. */
  secretKey: SecretKey | undefined;
  isolation: BuildIsolation;
  /** The packages built so far, in order. */
  results: BuildResult[];
}

async function buildOne(
  session: BuildSession,
  request: BuildRequest,
  stack: string[],
  reason: string,
): Promise<BuildResult> {
  const { tree, options } = session;
  const recipe = await loadRecipe(tree, request.recipe);
  const id = recipeId(recipe);
  if (stack.includes(id)) {
    throw new KilnError(
      'E_BUILD',
      `cannot build ${stack[0]}: its build dependencies form a cycle (${[...stack, id].join(' → ')})`,
      {
        hint: 'publish one package of the cycle first (built with an option that drops the dependency), then build the rest',
      },
    );
  }
  const chosen = resolveOptions(recipe, request.enable, request.disable);
  const buildDeps = activeDependencies(recipe.buildDepends, chosen);
  // A farm step is claimed only once the steps building its dependencies succeeded: nothing to look for.
  let published = options.farm === undefined ? await runnablePackages(options.repo) : [];
  for (const dep of options.farm === undefined ? buildDeps : []) {
    if (published.some((entry) => entry.name === dep.name && satisfies(entry.version, dep.range))) continue;
    if (options.buildMissing === false) {
      throw new KilnError(
        'E_NO_CANDIDATE',
        `cannot build ${id}: build dependency ${dep.name}${dep.range === '' ? '' : ` ${dep.range}`} is not in repository ${options.repo}`,
        {
          hint: `build it first ("kiln build ${shellQuote(dep.name)} --repo ${shellQuote(options.repo)}"), or allow missing dependencies to be built`,
        },
      );
    }
    await buildOne(session, { recipe: dep.name }, [...stack, id], `needed by ${id}`);
    // That build (and the ones it needed) published new packages.
    published = await runnablePackages(options.repo);
  }
  options.onEvent?.({ kind: 'start', recipe: id, version: fullVersion(recipe), options: chosen, reason });
  const result = await runBuild(session, recipe, chosen, buildDeps);
  session.results.push(result);
  options.onEvent?.({ kind: 'done', recipe: id, result });
  return result;
}

/** The packages of the repository's published index that run on this host. */
export async function runnablePackages(repoDir: string): Promise<IndexEntry[]> {
  const { index } = await readCurrentIndex(await openRepository(repoDir));
  const host = detectHost();
  return index.packages.filter((entry) => targetProblem(entry.target, host) === undefined);
}

async function runBuild(
  session: BuildSession,
  recipe: Recipe,
  chosen: Record<string, boolean>,
  buildDeps: { name: string; range: string }[],
): Promise<BuildResult> {
  const { tree, options } = session;
  const started = performance.now();
  const id = recipeId(recipe);
  const workRoot = resolve(options.workDir ?? defaultWorkDir(options.env));
  const buildId = randomBytes(4).toString('hex');
  const work = join(workRoot, `${recipe.name}-${fullVersion(recipe)}-${buildId}`);
  const placeholder = makePlaceholder(workRoot, buildId);
  const srcRoot = join(work, 'src');
  const stage = join(work, 'stage');
  const logPath = join(work, 'build.log');

  const owner = await claimWorkTree(workRoot, work);
  await mkdir(srcRoot, { recursive: true });
  await mkdir(stage, { recursive: true });
  const log = createWriteStream(logPath, { flags: 'a' });
  options.onLogFile?.(logPath);
  const logLine = (line: string): void => {
    log.write(`${line}\n`);
  };
  const step = (name: BuildStep, detail?: string): void => {
    logLine(
      `== step ${name}${detail === undefined || detail === '' ? '' : ` ${detail}`} at +${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    options.onEvent?.({ kind: 'step', recipe: id, step: name, ...(detail === undefined ? {} : { detail }) });
    if (options.signal?.aborted === true) throw stopped(id, options.signal);
  };
  let succeeded = false;
  try {
    logLine(`== kiln build ${id} ${fullVersion(recipe)} [${formatOptions(chosen, ' ')}]`);
    logLine(`== placeholder prefix ${placeholder}`);

    step('fetch');
    const files: { path: string; unpack: boolean }[] = [];
    for (const source of recipe.sources) {
      const path = await fetchSource(source, {
        cacheDir: resolve(options.cacheDir ?? defaultCacheDir(options.env)),
        mirrors: [...(options.mirrors ?? []), ...tree.config.mirrors],
        distfiles: options.distfiles ?? [],
        onEvent: (event) => {
          options.onEvent?.({ kind: 'fetch', recipe: id, event });
          if (event.kind === 'failed') logLine(`== fetch ${event.file} from ${event.from}: ${event.problem}`);
          if (event.kind === 'fetched') logLine(`== fetched ${event.file} from ${event.from}`);
        },
      });
      files.push({ path, unpack: source.unpack });
    }

    step('unpack');
    for (const file of files) {
      if (file.unpack)
        await runLogged(
          id,
          'unpack',
          'tar',
          ['-xf', file.path, '-C', srcRoot, '--no-same-owner'],
          srcRoot,
          process.env,
          log,
          logPath,
          { signal: options.signal },
        );
      else await copyFile(file.path, join(srcRoot, basename(file.path)));
    }
    const sourceDir = await singleTopDirectory(srcRoot);

    for (const patch of recipe.patches) {
      step('patch', patch);
      await runLogged(
        id,
        `patch ${patch}`,
        'patch',
        ['-p1', '--batch', '--forward', '-i', join(recipe.dir, patch)],
        sourceDir,
        process.env,
        log,
        logPath,
        { signal: options.signal },
      );
    }

    step('dependencies', buildDeps.map((dep) => dep.name).join(', '));
    const providers = await installBuildDependencies(
      placeholder,
      buildDeps,
      options.farm?.dependencies ?? (await localDependencies(options.repo)),
      logLine,
    );

    step('build');
    const home = join(work, 'home');
    await mkdir(home);
    const env = buildEnvironment({
      base: options.env ?? process.env,
      placeholder,
      destdir: stage,
      jobs: options.jobs ?? availableParallelism(),
      cpu: options.cpu ?? defaultCpu(),
      options: chosen,
      sourceDir,
      recipeDir: recipe.dir,
      name: recipe.name,
      version: recipe.version,
      home,
      sandboxed: session.isolation.kind === 'bubblewrap',
    });
    const notes = await runBuildScript(session.isolation, {
      id,
      recipe,
      work,
      placeholder,
      sourceDir,
      env,
      log,
      logPath,
      signal: options.signal,
    });

    step('post-process');
    const root = join(stage, placeholder);
    await checkStageHoldsOnlyPrefix(stage, placeholder, id);
    const processed = await postProcess({
      root,
      placeholder,
      providers,
      systemLibraries: new Set([
        ...DEFAULT_SYSTEM_LIBRARIES,
        ...tree.config.systemLibraries,
        ...recipe.systemLibraries,
      ]),
      where: id,
    });
    for (const note of processed.notes) logLine(`== ${note}`);
    for (const elf of processed.elfFiles)
      logLine(
        `== ELF ${elf.path}: needs ${elf.needed.join(', ') || 'nothing'}; run path ${elf.runpathBefore.join(':') || '(none)'} → ${elf.runpathAfter.join(':') || '(none)'}`,
      );

    step('pack');
    const host = detectHost();
    const depends = mergeDependencies([...activeDependencies(recipe.depends, chosen), ...processed.depends]);
    const packed = await pack({
      stageDir: root,
      input: {
        name: recipe.name,
        category: recipe.category,
        version: recipe.version,
        revision: recipe.revision,
        options: chosen,
        defaults: resolveOptions(recipe),
        ...(recipe.role === undefined ? {} : { role: recipe.role }),
        target: {
          arch: host.arch,
          cpu: options.cpu ?? defaultCpu(host.arch),
          libc: host.libc,
          libcVersion: processed.libcVersion,
        },
        summary: recipe.summary,
        homepage: recipe.homepage,
        license: recipe.license,
        depends,
        provides: { sonames: processed.provides },
        needs: { sonames: processed.needs, system: processed.system },
        users: recipe.users,
        groups: recipe.groups,
        directories: recipe.directories,
        configFiles: recipe.configFiles,
        permissions: recipe.permissions,
        placeholder,
      },
      outDir: join(work, 'out'),
      secretKey: session.secretKey,
    });
    logLine(
      `== packed ${basename(packed.path)}: ${packed.metadata.files.length} entries, ${packed.metadata.relocation?.files.length ?? 0} with the placeholder, libc floor ${processed.libcVersion}`,
    );

    step('publish');
    let published: string;
    if (options.farm === undefined) {
      await publishPackages(options.repo, [packed.path], {
        message: `build ${id} ${fullVersion(recipe)} variant ${packed.metadata.variant}`,
        password: options.password,
      });
      published = join(repositoryPaths(options.repo).packages, recipe.category, recipe.name, basename(packed.path));
    } else published = await options.farm.deliver(packed.path);
    const meta = packed.metadata;
    const keptLog = join(
      workRoot,
      'logs',
      recipe.category,
      recipe.name,
      basename(packed.path).replace(/\.kpkg$/, '.log'),
    );
    logLine(`== done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    await closeLog(log);
    await mkdir(join(keptLog, '..'), { recursive: true });
    await copyFile(logPath, keptLog);
    succeeded = true;
    return {
      recipe: id,
      name: recipe.name,
      version: fullVersion(recipe),
      options: chosen,
      variant: meta.variant,
      cpu: meta.target.cpu,
      libcVersion: meta.target.libcVersion,
      package: published,
      log: keptLog,
      seconds: (performance.now() - started) / 1000,
      depends: meta.depends,
      provides: meta.provides.sonames,
      sandbox: session.isolation.kind,
      notes: [...notes, ...processed.notes],
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    logLine(`== failed: ${message}`);
    await abandonWorkTree(workRoot, work, owner);
    options.onEvent?.({ kind: 'failed', recipe: id, log: logPath, message });
    throw error;
  } finally {
    if (!log.closed) await closeLog(log);
    if (succeeded && options.keep !== true) {
      await rm(work, { recursive: true, force: true });
      await rm(placeholder, { recursive: true, force: true });
      owner.release();
    } else if (succeeded) {
      // Kept on request, like a failed build's.
      await abandonWorkTree(workRoot, work, owner);
    }
  }
}

interface ScriptRun {
  id: string;
  recipe: Recipe;
  work: string;
  placeholder: string;
  sourceDir: string;
  env: Readonly<Record<string, string>>;
  log: WriteStream;
  logPath: string;
  signal: AbortSignal | undefined;
}

/** Run the recipe's build script, in the sandbox unless the session has none; returns notes for the result. */
async function runBuildScript(isolation: BuildIsolation, run: ScriptRun): Promise<string[]> {
  const script = join(run.recipe.dir, run.recipe.script);
  if (isolation.kind === 'none') {
    const note = `built without a sandbox (${ALLOW_UNSANDBOXED}=1): ${isolation.reason}; host headers and libraries were visible to the build`;
    run.log.write(`== ${note}\n`);
    await runLogged(run.id, 'the build script', 'bash', ['-e', script], run.sourceDir, run.env, run.log, run.logPath, {
      signal: run.signal,
    });
    return [note];
  }
  const started = performance.now();
  const sandbox = await prepareSandbox({
    view: isolation.view,
    links: join(run.work, 'toolchain'),
    writable: [run.work, run.placeholder],
    readOnly: [run.recipe.dir],
    cwd: run.sourceDir,
  });
  const roots = TOOLCHAIN_ROOTS.filter((name) => isolation.view.packages.includes(name));
  run.log.write(
    `== sandbox: bubblewrap, no network; of the host only the toolchain, read only: ${isolation.view.packages.length} Debian packages (the essential ones, ${roots.join(', ')} and their dependencies; left out: ${isolation.view.leftOut.join(', ') || 'none'}); writable: the work tree and the placeholder prefix\n`,
  );
  run.log.write(
    `== sandbox prepared in ${Math.round(performance.now() - started)} ms: ${sandbox.binds} bind mounts (${sandbox.how === 'links' ? 'partly shown directories hard-linked' : 'every file bound'})${sandbox.note === undefined ? '' : `: ${sandbox.note}`}\n`,
  );
  try {
    await runLogged(
      run.id,
      'the build script',
      isolation.bwrap,
      [...sandbox.args, 'bash', '-e', script],
      run.sourceDir,
      run.env,
      run.log,
      run.logPath,
      {
        shown: `bwrap [the sandbox] bash -e ${script}`,
        explain: explainHidden,
        signal: run.signal,
      },
    );
  } finally {
    await sandbox.remove();
  }
  return [];
}

/** A failed sandboxed build's log looked for a host file: say so, and what to do instead. */
function explainHidden(log: string): { message: string; hint: string } | undefined {
  const hidden = findHiddenHostFiles(log.split('\n').slice(-EXPLAINED_LINES).join('\n'));
  if (hidden.length === 0) return undefined;
  return {
    message: `it looked for what the sandbox hides and this host has: ${hidden.map((file) => `${file.kind} ${file.asked} (${file.hostPath})`).join(', ')}`,
    hint: `a build sees only the toolchain and what its build dependencies installed into $KILN_PREFIX (docs/recipes.md, "The sandbox"): add the recipe that provides ${hidden.map((file) => file.asked).join(', ')} to build-depends`,
  };
}

/** A local repository as the source of build dependencies: its published tree and its public keys. */
async function localDependencies(repoDir: string): Promise<{ url: string; keys: string[] }> {
  const repoPaths = repositoryPaths(resolve(repoDir));
  const keys = await Promise.all(
    (await readdir(repoPaths.keys))
      .filter((file) => file.endsWith('.pub'))
      .map((file) => readFile(join(repoPaths.keys, file), 'utf8')),
  );
  return { url: repoPaths.public, keys };
}

/** Install the build dependencies into the placeholder prefix; returns soname → providing package. */
async function installBuildDependencies(
  placeholder: string,
  deps: readonly { name: string; range: string }[],
  source: { url: string; keys: readonly string[] },
  logLine: (line: string) => void,
): Promise<Map<string, LibraryProvider>> {
  await mkdir(placeholder, { recursive: true });
  const providers = new Map<string, LibraryProvider>();
  if (deps.length === 0) return providers;
  await initPrefix(placeholder, { mode: 'user' });
  const prefix = await openPrefix(placeholder, {
    reporter: (event) => (event.kind === 'note' ? logLine(`== ${event.message}`) : undefined),
  });
  try {
    await prefix.addRemote('build', source.url, [...source.keys]);
    await prefix.sync();
    const result = await prefix.install(deps, { command: 'kiln build (build dependencies)' });
    logLine(
      `== installed build dependencies: ${result.plan.actions.map((action) => `${action.name} ${action.to ?? ''}`.trim()).join(', ')}`,
    );
    for (const pkg of prefix.installed()) {
      for (const soname of pkg.metadata.provides.sonames)
        providers.set(soname, { name: pkg.name, version: pkg.version });
    }
  } finally {
    prefix.close();
  }
  return providers;
}

/** Declared and automatic dependencies of one name become one entry whose range holds both. */
export function mergeDependencies(dependencies: readonly Dependency[]): Dependency[] {
  const byName = new Map<string, string[]>();
  for (const dep of dependencies) byName.set(dep.name, [...(byName.get(dep.name) ?? []), dep.range]);
  return [...byName.entries()]
    .map(([name, ranges]) => ({
      name,
      range: formatRange(parseRange(ranges.filter((range) => range !== '').join(' '))),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The directory the sources unpacked into: the only top-level directory, or the unpack root. */
async function singleTopDirectory(root: string): Promise<string> {
  const entries = await readdir(root, { withFileTypes: true });
  const only = entries.length === 1 ? entries[0] : undefined;
  return only?.isDirectory() ? join(root, only.name) : root;
}

/** Everything the build installed must be inside DESTDIR/PREFIX. */
async function checkStageHoldsOnlyPrefix(stage: string, placeholder: string, id: string): Promise<void> {
  const outside: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const inside = relative(join(stage, placeholder), path);
      if (!inside.startsWith('..')) continue;
      if (entry.isDirectory() && join(stage, placeholder).startsWith(`${path}/`)) await walk(path);
      else outside.push(`/${relative(stage, path)}`);
    }
  };
  await walk(stage);
  if (outside.length > 0) {
    throw new KilnError(
      'E_BUILD',
      `cannot package ${id}: the build installed outside the prefix: ${outside.slice(0, 5).join(', ')}${outside.length > 5 ? ` and ${outside.length - 5} more` : ''}`,
      {
        hint: 'install only under $DESTDIR$KILN_PREFIX (pass --prefix="$KILN_PREFIX" to configure, and DESTDIR="$DESTDIR" to make install)',
      },
    );
  }
  const info = await lstat(join(stage, placeholder)).catch(() => undefined);
  if (info === undefined || !info.isDirectory()) {
    throw new KilnError(
      'E_BUILD',
      `cannot package ${id}: the build script installed nothing into $DESTDIR$KILN_PREFIX`,
      { hint: 'the script must end with an install into "$DESTDIR$KILN_PREFIX", e.g. make install DESTDIR="$DESTDIR"' },
    );
  }
}

/** Run a command with its output appended to the log; E_BUILD with the log's tail when it fails. */
async function runLogged(
  id: string,
  what: string,
  command: string,
  args: readonly string[],
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
  log: WriteStream,
  logPath: string,
  how: {
    shown?: string;
    explain?: (log: string) => { message: string; hint: string } | undefined;
    signal?: AbortSignal | undefined;
  } = {},
): Promise<void> {
  log.write(`== ${what}: ${how.shown ?? [command, ...args].join(' ')}\n`);
  const { signal } = how;
  if (signal?.aborted === true) throw stopped(id, signal);
  await new Promise<void>((resolveRun, reject) => {
    // A build that can be stopped runs in a process group of its own, so that stopping it reaches make's children too.
    const child = spawn(command, args, {
      cwd,
      env: env as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: signal !== undefined,
    });
    const stop = (): void => {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // It ended meanwhile.
        }
      }
    };
    signal?.addEventListener('abort', stop, { once: true });
    child.on('close', () => signal?.removeEventListener('abort', stop));
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on('error', (error) =>
      reject(
        new KilnError('E_BUILD', `cannot build ${id}: ${what} could not start (${command}: ${error.message})`, {
          hint: `install ${command}`,
          cause: error,
        }),
      ),
    );
    child.on('close', (code, killedBy) => {
      if (signal?.aborted === true) return reject(stopped(id, signal));
      if (code === 0) return resolveRun();
      const status = killedBy !== null ? `was killed by ${killedBy}` : `exited with status ${code}`;
      void logText(logPath, log).then((text) => {
        const tail = text.trimEnd().split('\n').slice(-FAILURE_TAIL_LINES).join('\n');
        const explained = how.explain?.(text);
        const read = `read the whole log: less ${logPath}; the work tree is kept in ${join(logPath, '..')}`;
        reject(
          new KilnError(
            'E_BUILD',
            `cannot build ${id}: ${what} ${status}; ${explained === undefined ? '' : `${explained.message}; `}the log is ${logPath}\n--- last lines of the log ---\n${tail}`,
            {
              hint: explained === undefined ? read : `${explained.hint}; ${read}`,
            },
          ),
        );
      });
    });
  });
}

/** The error of a build stopped through its signal (the farm cancelled its step, or its lease was lost). */
function stopped(id: string, signal: AbortSignal): KilnError {
  const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'stopped');
  return new KilnError('E_BUILD', `cannot build ${id}: stopped (${reason})`, {
    hint: 'the build was stopped on purpose; nothing was published',
  });
}

async function logText(logPath: string, log: WriteStream): Promise<string> {
  // An empty write completes after every earlier one: the file then holds all of them.
  await new Promise<void>((done) => log.write('', () => done()));
  return readFile(logPath, 'utf8').catch(() => '');
}

async function closeLog(log: WriteStream): Promise<void> {
  await new Promise<void>((done) => log.end(() => done()));
}
