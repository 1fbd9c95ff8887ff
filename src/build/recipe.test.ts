import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isKilnError } from '../errors/index.js';
import { makePlaceholder, PLACEHOLDER_LENGTH, buildEnvironment, optionVariable } from './buildEnvironment.js';
import { mergeDependencies } from './buildPackage.js';
import { relativeRunpath } from './postProcess.js';
import { activeDependencies, parseDependencyText, parseRecipeText, resolveOptions } from './recipe.js';

/** The value as JSON carries it: tables without a prototype (how Kiln keeps user-keyed tables) compare as plain objects. */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const SHA = 'a'.repeat(64);
const GOOD = `
name = "nginx"
version = "1.22.1"
summary = "HTTP server"
homepage = "https://nginx.org/"
license = "BSD-2-Clause"
build-depends = ["pcre2 >=10.30 when pcre", "openssl >=3 <4 when ssl", "zlib"]
depends = ["mime-types when !minimal"]
patches = ["patches/fix.patch"]

[[source]]
url = "https://nginx.org/download/nginx-1.22.1.tar.gz"
sha256 = "${SHA}"
debian = "nginx"

[options]
pcre = { default = true, description = "regular expressions" }
ssl = { default = false, description = "HTTPS" }
minimal = { default = false, description = "fewer files" }

[install]
config-files = ["etc/nginx/nginx.conf"]
users = [{ name = "nginx", system = true }]
directories = [{ path = "var/log/nginx", owner = "nginx", mode = "0750" }]
permissions = [{ path = "bin/helper", mode = "04755" }]
`;

function expectRecipeError(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseRecipeText(text, '/ports/www/nginx', 'www', 'nginx'),
    (error: unknown) => {
      assert.ok(isKilnError(error, 'E_RECIPE'), String(error));
      assert.match(error.message, pattern);
      assert.ok(error.message.includes('/ports/www/nginx/recipe.toml'), error.message);
      return true;
    },
  );
}

describe('parseRecipe', () => {
  it('reads every field', () => {
    const recipe = parseRecipeText(GOOD, '/ports/www/nginx', 'www', 'nginx');
    assert.equal(recipe.category, 'www');
    assert.equal(recipe.revision, 0);
    assert.equal(recipe.sources[0]!.file, 'nginx-1.22.1.tar.gz');
    assert.equal(recipe.sources[0]!.debian, 'nginx');
    assert.deepEqual(recipe.buildDepends[1], {
      name: 'openssl',
      range: '>=3 <4',
      when: { option: 'ssl', enabled: true },
    });
    assert.deepEqual(recipe.depends[0], { name: 'mime-types', range: '', when: { option: 'minimal', enabled: false } });
    assert.equal(recipe.directories[0]!.mode, 0o750);
    assert.equal(recipe.permissions[0]!.mode, 0o4755);
    assert.equal(recipe.script, 'build.sh');
  });

  for (const [label, text, pattern] of [
    [
      'a name that differs from the directory',
      GOOD.replace('name = "nginx"', 'name = "other"'),
      /name is "other" but the recipe's directory is "nginx"/,
    ],
    ['a bad sha256', GOOD.replace(SHA, 'abc'), /source\[0\]\.sha256 must be 64 lower-case hex digits/],
    [
      'no source',
      GOOD.slice(0, GOOD.indexOf('[[source]]')) + GOOD.slice(GOOD.indexOf('[options]')),
      /source must list at least one source/,
    ],
    [
      'a condition on an unknown option',
      GOOD.replace('when ssl', 'when tls'),
      /build-depends\[1\] depends on option "tls", which the recipe does not declare/,
    ],
    [
      'a bad range',
      GOOD.replace('>=3 <4', '>>3'),
      /build-depends\[1\] "openssl >>3 when ssl" has an invalid version range/,
    ],
    ['an unknown field', GOOD.replace('homepage =', 'homepag ='), /homepag is not a known field/],
    [
      'a top-level key after [[source]]',
      GOOD.replace('debian = "nginx"', 'debian = "nginx"\nbuild-depends = []'),
      /source\[0\]\.build-depends belongs at the top of the file/,
    ],
    ['an unsafe patch path', GOOD.replace('patches/fix.patch', '../x.patch'), /patches\[0\]/],
    [
      'an invalid license',
      GOOD.replace('BSD-2-Clause', 'not a license'),
      /license "not a license" is not a valid SPDX license expression/,
    ],
    ['invalid TOML', `${GOOD}\n[options\n`, /is not valid TOML/],
  ] as const) {
    it(`rejects ${label}`, () => expectRecipeError(text, pattern));
  }
});

describe('options and dependencies', () => {
  const recipe = parseRecipeText(GOOD, '/ports/www/nginx', 'www', 'nginx');
  it('starts from the defaults, then --with, then --without', () => {
    assert.deepEqual(plain(resolveOptions(recipe)), { minimal: false, pcre: true, ssl: false });
    assert.deepEqual(plain(resolveOptions(recipe, ['ssl'], ['pcre'])), { minimal: false, pcre: false, ssl: true });
  });
  it('refuses an unknown option, naming the known ones', () => {
    assert.throws(
      () => resolveOptions(recipe, ['uwsgi']),
      (error: unknown) =>
        isKilnError(error, 'E_USAGE') &&
        /no such option/.test(error.message) &&
        /minimal, pcre, ssl/.test(error.hint ?? ''),
    );
    assert.throws(() => resolveOptions(recipe, ['ssl'], ['ssl']), /both enabled and disabled/);
  });
  it('keeps the dependencies whose condition holds', () => {
    assert.deepEqual(
      activeDependencies(recipe.buildDepends, resolveOptions(recipe)).map((dep) => dep.name),
      ['pcre2', 'zlib'],
    );
    assert.deepEqual(
      activeDependencies(recipe.buildDepends, resolveOptions(recipe, ['ssl'], ['pcre'])).map((dep) => dep.name),
      ['openssl', 'zlib'],
    );
    assert.deepEqual(activeDependencies(recipe.depends, { minimal: true }), []);
  });
  it('parses the dependency text form', () => {
    assert.deepEqual(parseDependencyText('zlib'), { name: 'zlib', range: '' });
    assert.equal(typeof parseDependencyText('zlib when'), 'string');
  });
  it('merges declared and automatic dependencies of one name into one range', () => {
    assert.deepEqual(
      mergeDependencies([
        { name: 'zlib', range: '<2' },
        { name: 'pcre2', range: '>=10.42' },
        { name: 'zlib', range: '>=1.2.13' },
      ]),
      [
        { name: 'pcre2', range: '>=10.42' },
        { name: 'zlib', range: '<2 >=1.2.13' },
      ],
    );
  });
});

describe('the build environment', () => {
  it('makes placeholders of exactly PLACEHOLDER_LENGTH bytes, unique per build', () => {
    const a = makePlaceholder('/var/tmp/kiln', 'aa11');
    const b = makePlaceholder('/var/tmp/kiln/', 'bb22');
    assert.equal(Buffer.byteLength(a), PLACEHOLDER_LENGTH);
    assert.equal(Buffer.byteLength(b), PLACEHOLDER_LENGTH);
    assert.ok(a.startsWith('/var/tmp/kiln/p-aa11-_kiln_placeholder'));
    assert.notEqual(a, b);
  });
  it('refuses a work directory that leaves no room', () => {
    assert.throws(
      () => makePlaceholder(`/${'w'.repeat(PLACEHOLDER_LENGTH)}`, 'x'),
      (error: unknown) => isKilnError(error, 'E_BUILD'),
    );
  });
  it("sets the documented variables and keeps the caller's flags out", () => {
    const env = buildEnvironment({
      base: {
        PATH: '/usr/bin',
        CFLAGS: '-O0',
        LD_LIBRARY_PATH: '/evil',
        LD_PRELOAD: '/evil.so',
        HOME: '/root',
        TMPDIR: '/var/tmp',
      },
      placeholder: '/ph',
      destdir: '/stage',
      jobs: 3,
      cpu: 'x86-64-v2',
      options: { ssl: true, 'http-2': false },
      sourceDir: '/src',
      recipeDir: '/r',
      name: 'n',
      version: '1',
      home: '/build/home',
      sandboxed: false,
    });
    assert.equal(env['KILN_PREFIX'], '/ph');
    assert.equal(env['DESTDIR'], '/stage');
    assert.equal(env['MAKEFLAGS'], '-j3');
    assert.match(env['CFLAGS']!, /-march=x86-64-v2/);
    assert.match(env['LDFLAGS']!, /-Wl,-rpath,\/ph\/lib\/ /);
    assert.equal(env['LD_LIBRARY_PATH'], undefined);
    assert.equal(env['LD_PRELOAD'], undefined);
    assert.equal(env['HOME'], '/build/home', "tools write their dotfiles into the work tree, not the user's home");
    assert.equal(env['TMPDIR'], '/var/tmp');
    assert.equal(env[optionVariable('ssl')], '1');
    assert.equal(env['KILN_OPTION_HTTP_2'], '0');
    assert.equal(env['PATH'], '/ph/bin:/usr/bin');
  });
  it("in the sandbox, searches only the prefix and the toolchain's directories, and keeps temporary files in its own /tmp", () => {
    const env = buildEnvironment({
      base: { PATH: '/home/me/.local/bin:/usr/local/bin:/usr/bin', TMPDIR: '/home/me/tmp' },
      placeholder: '/ph',
      destdir: '/s',
      jobs: 1,
      cpu: 'x86-64',
      options: {},
      sourceDir: '/s',
      recipeDir: '/r',
      name: 'n',
      version: '1',
      home: '/w/home',
      sandboxed: true,
    });
    assert.equal(env['PATH'], '/ph/bin:/usr/bin:/bin:/usr/sbin:/sbin');
    assert.equal(env['TMPDIR'], '/tmp');
  });
  it('refuses an unknown CPU level', () => {
    assert.throws(
      () =>
        buildEnvironment({
          base: {},
          placeholder: '/ph',
          destdir: '/s',
          jobs: 1,
          cpu: 'pentium',
          options: {},
          sourceDir: '/s',
          recipeDir: '/r',
          name: 'n',
          version: '1',
          home: '/w/home',
          sandboxed: true,
        }),
      /unknown level/,
    );
  });
});

describe('relativeRunpath', () => {
  const dropped: string[] = [];
  it('makes placeholder entries $ORIGIN-relative to the file, keeps $ORIGIN, drops the rest', () => {
    assert.deepEqual(
      relativeRunpath(['/ph/lib/'], 'bin/nginx', '/ph', (entry) => dropped.push(entry)),
      ['$ORIGIN/../lib'],
    );
    assert.deepEqual(
      relativeRunpath(['/ph/lib'], 'lib/libx.so.1', '/ph', (entry) => dropped.push(entry)),
      ['$ORIGIN'],
    );
    assert.deepEqual(
      relativeRunpath(
        ['/ph/lib', '${ORIGIN}/x', '/usr/lib', '/ph/lib/'],
        'lib/python3.11/lib-dynload/_ssl.so',
        '/ph',
        (entry) => dropped.push(entry),
      ),
      ['$ORIGIN/../..', '$ORIGIN/x'],
    );
    assert.deepEqual(dropped, ['/usr/lib']);
  });
  it('does not take a sibling directory that shares the placeholder as a prefix', () => {
    const seen: string[] = [];
    assert.deepEqual(
      relativeRunpath(['/ph2/lib'], 'bin/x', '/ph', (entry) => seen.push(entry)),
      [],
    );
    assert.deepEqual(seen, ['/ph2/lib']);
  });
});
