/**
 * The environment of a build script (docs/recipes.md, "The build
 * environment"): where to install, which flags to compile and link with, and
 * one variable per option. Pure: the caller passes the base environment.
 */
import { KilnError } from '../errors/index.js';
import { dict } from '../util/dict.js';

/** The placeholder prefix is always this many bytes long: the longest prefix a package with compiled-in paths can be installed into. */
export const PLACEHOLDER_LENGTH = 160;
const PLACEHOLDER_FILL = '_kiln_placeholder';

/** The search path of programs in the build sandbox, after the placeholder prefix's bin. */
export const SANDBOX_PATH = '/usr/bin:/bin:/usr/sbin:/sbin';

/** CPU levels builds can target, and their compiler flags (x86-64 psABI levels). */
export const CPU_FLAGS: Readonly<Record<string, string>> = {
  'x86-64': '-march=x86-64 -mtune=generic',
  'x86-64-v2': '-march=x86-64-v2 -mtune=generic',
  'x86-64-v3': '-march=x86-64-v3 -mtune=generic',
  'x86-64-v4': '-march=x86-64-v4 -mtune=generic',
  generic: '',
};

/**
 * A placeholder prefix of exactly PLACEHOLDER_LENGTH bytes under `workRoot`,
 * unique to build `id`: `WORKROOT/p-ID-_kiln_placeholder_kiln_place…`.
 * @example makePlaceholder('/var/tmp/kiln', 'a1b2c3') // '/var/tmp/kiln/p-a1b2c3-_kiln_placeholder…' (160 bytes)
 */
export function makePlaceholder(workRoot: string, id: string): string {
  const base = `${workRoot.replace(/\/+$/, '')}/p-${id}-`;
  const room = PLACEHOLDER_LENGTH - Buffer.byteLength(base);
  if (!base.startsWith('/') || room < 32) {
    throw new KilnError(
      'E_BUILD',
      `cannot build in ${workRoot}: its path is ${Buffer.byteLength(workRoot)} bytes long, and the placeholder prefix (${PLACEHOLDER_LENGTH} bytes) must hold it and at least 32 bytes more`,
      {
        hint: 'choose a shorter absolute work directory with --work DIR',
      },
    );
  }
  return base + PLACEHOLDER_FILL.repeat(Math.ceil(room / PLACEHOLDER_FILL.length)).slice(0, room);
}

export interface BuildEnvironmentInput {
  /** The inherited environment (PATH, HOME, locale …). */
  base: Readonly<Record<string, string | undefined>>;
  placeholder: string;
  destdir: string;
  jobs: number;
  cpu: string;
  options: Readonly<Record<string, boolean>>;
  sourceDir: string;
  recipeDir: string;
  name: string;
  version: string;
  /** An empty directory of the work tree: the build's HOME, so that no tool writes into the user's. */
  home: string;
  /** The script runs in the build sandbox: the host's PATH and TMPDIR mean nothing there. */
  sandboxed: boolean;
}

/** `KILN_OPTION_` + the option name upper-cased, other characters as `_`. */
export function optionVariable(option: string): string {
  return `KILN_OPTION_${option.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/**
 * The variables a build script sees. The dependencies are installed in the
 * placeholder prefix itself, so one set of -I/-L flags and one run path serve
 * both: the run path is absolute during the build and made `$ORIGIN`-relative
 * afterwards.
 * @example buildEnvironment({ base: process.env, placeholder, destdir, jobs: 2, cpu: 'x86-64', options: { ssl: true }, … }).KILN_OPTION_SSL // '1'
 */
export function buildEnvironment(input: BuildEnvironmentInput): Record<string, string> {
  const cpuFlags = CPU_FLAGS[input.cpu];
  if (cpuFlags === undefined) {
    throw new KilnError('E_USAGE', `cannot build for CPU level ${JSON.stringify(input.cpu)}: unknown level`, {
      hint: `known levels: ${Object.keys(CPU_FLAGS).join(', ')}`,
    });
  }
  const env: Record<string, string> = dict();
  for (const [key, value] of Object.entries(input.base)) {
    // Nothing of the caller's own build setup leaks in: flags and search paths are ours alone.
    if (
      value === undefined ||
      /^(KILN_|CFLAGS$|CXXFLAGS$|CPPFLAGS$|LDFLAGS$|LIBS$|PKG_CONFIG|LD_LIBRARY_PATH$|LD_PRELOAD$|LD_RUN_PATH$|LIBRARY_PATH$|C_INCLUDE_PATH$|CPLUS_INCLUDE_PATH$|CPATH$|MAKEFLAGS$|MFLAGS$|DESTDIR$|PREFIX$|PYTHONPATH$|PERL5LIB$|ACLOCAL_PATH$)/.test(
        key,
      )
    )
      continue;
    env[key] = value;
  }
  const prefix = input.placeholder;
  const compile = `-O2 -pipe ${cpuFlags}`.replace(/\s+/g, ' ').trim();
  Object.assign(env, {
    KILN_PREFIX: prefix,
    PREFIX: prefix,
    DESTDIR: input.destdir,
    KILN_JOBS: String(input.jobs),
    MAKEFLAGS: `-j${input.jobs}`,
    KILN_CPU: input.cpu,
    KILN_SOURCE_DIR: input.sourceDir,
    KILN_RECIPE_DIR: input.recipeDir,
    KILN_NAME: input.name,
    KILN_VERSION: input.version,
    CFLAGS: compile,
    CXXFLAGS: compile,
    CPPFLAGS: `-I${prefix}/include`,
    // The run path ends in "/": GNU ld may otherwise point a symbol named "lib" into its tail, which would stop it being rewritten in place.
    LDFLAGS: `-L${prefix}/lib -Wl,-rpath,${prefix}/lib/ -Wl,--disable-new-dtags`,
    PKG_CONFIG_PATH: `${prefix}/lib/pkgconfig:${prefix}/share/pkgconfig`,
    PKG_CONFIG_LIBDIR: `${prefix}/lib/pkgconfig:${prefix}/share/pkgconfig`,
    // In the sandbox only the toolchain's directories exist (/usr/local is hidden).
    PATH: `${prefix}/bin:${input.sandboxed ? SANDBOX_PATH : (input.base['PATH'] ?? '/usr/local/bin:/usr/bin:/bin')}`,
    HOME: input.home,
    LC_ALL: 'C',
    SOURCE_DATE_EPOCH: '0',
  });
  if (input.sandboxed) env['TMPDIR'] = '/tmp';
  for (const [option, enabled] of Object.entries(input.options)) env[optionVariable(option)] = enabled ? '1' : '0';
  return env;
}
