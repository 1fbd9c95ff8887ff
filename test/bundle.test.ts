/**
 * `kiln bundle` end to end, on packages made here: a compiled program with a
 * path compiled in (binary relocation), a configuration file naming the
 * prefix (text), a script whose `#!` names an interpreter of the prefix, and
 * files trimming leaves out. The bundle is unpacked on a bare host (a chroot
 * with a few of this machine's programs, no node and no Kiln, entered as an
 * unprivileged user: helpers/bareHost.ts) into a path with blanks, fixed up
 * with its own script, run, moved, fixed up again, checked, and damaged.
 * nginx itself is bundled the same way in build.test.ts.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BundleManifest } from '../src/bundle/index.js';
import { parseBundleManifest } from '../src/bundle/index.js';
import { detectHost } from '../src/solver/hostTarget.js';
import { X86_64_LEVELS } from '../src/solver/cpuLevel.js';
import { BARE_TOOLS, bareHost } from './helpers/bareHost.js';
import { fails, ok, okAs, packAll, publish, syncedPrefix, testUser } from './helpers/client.js';
import { kiln, tempDir } from './helpers/kiln.js';

const PH = `/opt/kiln-bundle-test-${'x'.repeat(80)}`;
const PROGRAM = `
#include <stdio.h>
const char *volatile data = "${PH}/share/app/data.txt";
int main(void) {
  char line[256] = "";
  FILE *f = fopen(data, "r");
  if (f == NULL) { printf("cannot open %s\\n", data); return 1; }
  if (fgets(line, sizeof line, f) == NULL) line[0] = 0;
  printf("data=%s", line);
  return 0;
}
`;

/** The packages: app (needs applib) and other, which the bundle of app must leave out. */
async function repository(dir: string): Promise<string> {
  writeFileSync(join(dir, 'app.c'), PROGRAM);
  execFileSync('gcc', ['-O2', '-o', join(dir, 'app'), join(dir, 'app.c')]);
  const packages = await packAll(dir, [
    {
      name: 'applib',
      version: '1.0',
      tree: { 'lib/applib/readme.txt': 'applib\n', 'lib/applib/current': { symlink: 'readme.txt' } },
    },
    {
      name: 'app',
      version: '1.0',
      depends: ['applib'],
      tree: {
        'bin/app': { content: readFileSync(join(dir, 'app')), mode: 0o755 },
        'bin/dash': { content: readFileSync('/usr/bin/dash'), mode: 0o755 },
        'bin/hello': { content: `#!${PH}/bin/dash\necho "hello from $0"\n`, mode: 0o755 },
        'etc/app.conf': `root = ${PH}\ndata = ${PH}/share/app\n`,
        'share/app/data.txt': 'data ok\n',
        'include/app.h': 'int app(void);\n',
        'lib/libapp.a': 'not really an archive\n',
        'share/man/man1/app.1': '.TH APP 1\n',
      },
      extra: { placeholder: PH, configFiles: ['etc/app.conf'] },
    },
    { name: 'other', version: '1.0', tree: { 'share/other/x': 'x\n' } },
  ]);
  await publish(dir, packages);
  const prefix = await syncedPrefix(dir);
  await ok(['--prefix', prefix, 'install', 'app', 'other', '-y']);
  return prefix;
}

function tarList(file: string): string[] {
  return execFileSync('tar', ['-tf', file], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.replace(/\/$/, ''));
}

function manifestOf(file: string): BundleManifest {
  const text = execFileSync('tar', ['-xOf', file, '.kiln-bundle/manifest.json'], { encoding: 'utf8' });
  return parseBundleManifest(text, file);
}

test('kiln bundle: trimmed closure, unpacked on a bare host into a path with blanks, moved, checked', async (t) => {
  const dir = await tempDir(t, 'kiln-bundle-');
  const prefix = await repository(dir);
  const user = testUser();
  const host = bareHost(dir, user);
  const home = host.root === undefined ? join(dir, 'home') : `/home/${user!.name}`;
  mkdirSync(host.outside(home), { recursive: true });
  if (user !== undefined) execFileSync('chown', [`${user.uid}:${user.gid}`, host.outside(home)]);
  const gz = join(dir, 'app.tar.gz');
  const zst = join(dir, 'app.tar.zst');

  await t.test('the closure, trimmed, with its manifest', async () => {
    const out = await ok(['--prefix', prefix, 'bundle', 'app', '--out', gz]);
    assert.match(out, /wrote .*app\.tar\.gz .*: app-1\.0 applib-1\.0\n/);
    assert.match(out, /trimmed 3 files/);
    const listed = tarList(gz);
    for (const path of [
      'bin/app',
      'bin/hello',
      'etc/app.conf',
      'lib/applib/current',
      'bin/kiln-relocate',
      '.kiln-bundle/files.txt',
    ])
      assert.ok(listed.includes(path), `${path} is in the bundle: ${listed.join(' ')}`);
    for (const path of [
      'include/app.h',
      'lib/libapp.a',
      'share/man/man1/app.1',
      'share/other/x',
      'var/lib/kiln/kiln.db',
    ])
      assert.ok(!listed.includes(path), `${path} is not in the bundle`);
    const manifest = manifestOf(gz);
    const byPath = new Map(manifest.files.map((file) => [file.path, file]));
    assert.equal(byPath.get('bin/app')?.relocation?.kind, 'binary');
    assert.equal(byPath.get('bin/app')?.relocation?.room, PH.length);
    assert.equal(byPath.get('etc/app.conf')?.relocation?.kind, 'text');
    assert.equal(byPath.get('etc/app.conf')?.relocation?.offsets.length, 2);
    assert.equal(byPath.get('share/app/data.txt')?.relocation, undefined);
    assert.equal(manifest.room, PH.length);
    assert.deepEqual(manifest.trimmed, ['dev', 'docs']);
    assert.equal(manifest.requires.arch, 'x86_64');
    assert.match(manifest.requires.libcVersion, /^2\.\d+$/);
    assert.deepEqual(manifest.requires.loaders, ['/lib64/ld-linux-x86-64.so.2']);
    assert.deepEqual(
      manifest.packages.map((pkg) => pkg.name),
      ['app', 'applib'],
    );
    const hello = execFileSync('tar', ['-xOf', gz, 'bin/hello'], { encoding: 'utf8' });
    assert.match(
      hello,
      /^#!\/bin\/sh\n/,
      'a #! line into the prefix became a launcher, so that blanks in the path do no harm',
    );
    const full = await ok(['--prefix', prefix, 'bundle', 'app', '--out', join(dir, 'full.tar'), '--with', 'dev,docs']);
    assert.match(full, /trimmed 0 files/);
    assert.ok(tarList(join(dir, 'full.tar')).includes('include/app.h'));
    await ok(['--prefix', prefix, 'bundle', 'app', '--out', zst]);
  });

  const inside = `${home}/my apps/app one`;
  const outside = host.outside(inside);
  const sh = (command: string) => host.sh(command);
  const quoted = (path: string): string => `'${path}'`;

  await t.test('unpacks and fixes itself with no Kiln and no node; runs from a path with blanks', () => {
    copyFileSync(gz, host.outside('/tmp/app.tar.gz'));
    chmodSync(host.outside('/tmp/app.tar.gz'), 0o644);
    if (host.root !== undefined) assert.notEqual(sh('command -v node').status, 0, 'the bare host has no node');
    const unpack = sh(
      `mkdir -p ${quoted(inside)} && tar -xzf /tmp/app.tar.gz -C ${quoted(inside)} && ${quoted(`${inside}/bin/kiln-relocate`)}`,
    );
    assert.equal(unpack.status, 0, unpack.stderr);
    assert.match(unpack.stdout, /3 file\(s\) now name .*app one/);
    const run = sh(`${quoted(`${inside}/bin/app`)} && ${quoted(`${inside}/bin/hello`)}`);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, `data=data ok\nhello from ${inside}/bin/hello\n`);
    assert.equal(readFileSync(join(outside, 'etc/app.conf'), 'utf8'), `root = ${inside}\ndata = ${inside}/share/app\n`);
    const verify = sh(`${quoted(`${inside}/bin/kiln-relocate`)} --verify`);
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
    const again = sh(quoted(`${inside}/bin/kiln-relocate`));
    assert.match(again.stdout, /already names itself; nothing to do/);
  });

  await t.test("with busybox's tools alone, as on a minimal host, it fixes up, checks and finds a change", () => {
    // busybox's sh, tar, sed, dd, head, tail, sha256sum …, each a link to busybox, and nothing else on PATH.
    const tools = join(dir, 'busybox-bin');
    mkdirSync(tools, { recursive: true });
    // Debian's busybox has every tool of the bare host but zstd and getconf (which the script does without).
    const applets = BARE_TOOLS.filter((tool) => tool !== 'zstd' && tool !== 'getconf');
    for (const applet of applets)
      if (!existsSync(join(tools, applet))) symlinkSync('/usr/bin/busybox', join(tools, applet));
    const target = join(dir, 'busybox host', 'app');
    const busybox = (command: string) =>
      spawnSync(join(tools, 'sh'), ['-c', command], { encoding: 'utf8', env: { PATH: tools } });
    const unpack = busybox(
      `mkdir -p '${target}' && tar -xzf '${gz}' -C '${target}' && '${target}/bin/kiln-relocate' && '${target}/bin/kiln-relocate' --verify`,
    );
    assert.equal(unpack.status, 0, unpack.stdout + unpack.stderr);
    assert.match(unpack.stdout, /3 file\(s\) now name .*busybox host\/app\n.*ok: every file/s);
    assert.equal(execFileSync(join(target, 'bin/app'), { encoding: 'utf8' }), 'data=data ok\n');
    writeFileSync(join(target, 'share/app/data.txt'), 'changed\n');
    const verify = busybox(`'${target}/bin/kiln-relocate' --verify`);
    assert.equal(verify.status, 1);
    assert.match(verify.stdout, /changed: share\/app\/data\.txt/);
  });

  await t.test('after a move, the fix-up runs again; kiln bundle verify agrees with the script', async () => {
    const moved = `${home}/moved`;
    const result = sh(
      `mv ${quoted(inside)} ${moved} && ${moved}/bin/kiln-relocate && ${moved}/bin/app && ${moved}/bin/hello`,
    );
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /data=data ok\nhello from .*\/moved\/bin\/hello\n$/);
    await ok(['bundle', 'verify', host.outside(moved)]);
    sh(`mv ${moved} ${quoted(inside)} && ${quoted(`${inside}/bin/kiln-relocate`)}`);
  });

  await t.test('a run cut short is finished by the next one', () => {
    // A mv that fails on its second call: the first file is moved, the run stops, .kiln-bundle/moving stays.
    const target = `${home}/interrupted`;
    mkdirSync(host.outside(`${home}/fake`), { recursive: true });
    writeFileSync(
      host.outside(`${home}/fake/mv`),
      '#!/bin/sh\ncount=$(cat "$HOME/fake/count" 2>/dev/null || echo 0)\necho $((count + 1)) > "$HOME/fake/count"\n[ "$count" -lt 2 ] || exit 1\nexec /usr/bin/mv "$@"\n',
    );
    chmodSync(host.outside(`${home}/fake/mv`), 0o755);
    if (user !== undefined) execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, host.outside(`${home}/fake`)]);
    const cut = sh(
      `mv ${quoted(inside)} ${target} && HOME=${home} PATH=${home}/fake:/usr/bin:/bin ${target}/bin/kiln-relocate`,
    );
    assert.notEqual(cut.status, 0, 'the run was cut short');
    assert.ok(existsSync(host.outside(`${target}/.kiln-bundle/moving`)));
    const finish = sh(`${target}/bin/kiln-relocate && ${target}/bin/app && ${target}/bin/kiln-relocate --verify`);
    assert.equal(finish.status, 0, finish.stdout + finish.stderr);
    assert.ok(!existsSync(host.outside(`${target}/.kiln-bundle/moving`)));
    sh(`mv ${target} ${quoted(inside)} && ${quoted(`${inside}/bin/kiln-relocate`)}`);
  });

  await t.test(
    'refusals: a path too long for the binaries, a quote in the path, an old glibc, a missing loader, a CPU level',
    () => {
      const long = `${home}/${'l'.repeat(PH.length)}`;
      const tooLong = sh(`mv ${quoted(inside)} ${long}; ${long}/bin/kiln-relocate`);
      assert.equal(tooLong.status, 1);
      assert.match(
        tooLong.stderr,
        new RegExp(
          `cannot relocate into ${long}: the path is ${long.length} bytes long and the bundle's binary files have room for ${PH.length}`,
        ),
      );
      assert.equal(
        readFileSync(host.outside(`${long}/.kiln-bundle/prefix`), 'utf8'),
        `${inside}\n`,
        'nothing was changed',
      );
      const quote = sh(`mv ${long} "${home}/it's"; "${home}/it's/bin/kiln-relocate"`);
      assert.equal(quote.status, 1);
      assert.match(quote.stderr, /the path holds a quote/);
      sh(`mv "${home}/it's" ${quoted(inside)}`);
      const info = host.outside(`${inside}/.kiln-bundle/info`);
      const original = readFileSync(info, 'utf8');
      const script = quoted(`${inside}/bin/kiln-relocate`);
      try {
        writeFileSync(info, original.replace(/^libc-version .*$/m, 'libc-version 9.99'));
        const old = sh(`${script} --check`);
        assert.equal(old.status, 1);
        assert.match(old.stdout, /this host has glibc 2\.\d+ and the bundle needs 9\.99 or newer/);
        writeFileSync(info, original.replace(/^loader .*$/m, 'loader /lib64/ld-nowhere.so.2'));
        assert.match(sh(`${script} --check`).stdout, /this host has no \/lib64\/ld-nowhere\.so\.2/);
        const missing = X86_64_LEVELS.find((level) => !detectHost().cpuLevels.includes(level));
        if (missing !== undefined) {
          writeFileSync(info, original.replace(/^cpu .*$/m, `cpu ${missing}`));
          assert.match(sh(`${script} --check`).stdout, new RegExp(`does not run ${missing} code`));
        }
        // A loader that lists no levels (glibc before 2.33): /proc/cpuinfo decides, feature by feature.
        if (host.root === undefined || existsSync('/proc/cpuinfo')) {
          const fake = `${home}/fake/ld.so`;
          writeFileSync(
            host.outside(fake),
            '#!/bin/sh\necho "ld.so (GNU libc) stable release version 2.17, by Roland McGrath et al."\n',
          );
          chmodSync(host.outside(fake), 0o755);
          writeFileSync(
            info,
            original
              .replace(/^loader .*$/m, `loader ${fake}`)
              .replace(/^cpu .*$/m, 'cpu x86-64-v4')
              .replace(/^libc-version .*$/m, 'libc-version 2.17'),
          );
          const check = sh(`${script} --check`);
          // In the chroot /proc is not mounted: the script says it cannot tell, rather than guessing.
          if (host.root !== undefined)
            assert.match(check.stdout, /cannot tell this host's CPU level \(no \/proc\/cpuinfo\)/);
          else if (!detectHost().cpuLevels.includes('x86-64-v4')) assert.match(check.stdout, /lacks AVX512F/);
        }
      } finally {
        writeFileSync(info, original);
      }
      assert.equal(sh(`${script} --check`).status, 0);
    },
  );

  await t.test('the script rewrites nothing outside the bundle, even through a symbolic link put in its place', () => {
    // etc/ replaced by a link to a directory outside, holding an app.conf exactly as the bundle's.
    const victim = `${home}/victim`;
    const etc = `${inside}/etc`;
    const moved = `${home}/linked`;
    const result = sh(
      `cp -R ${quoted(etc)} ${victim} && rm -R ${quoted(etc)} && ln -s ${victim} ${quoted(etc)} && mv ${quoted(inside)} ${moved} && ${moved}/bin/kiln-relocate`,
    );
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /etc\/app\.conf is a symbolic link or lies outside/);
    assert.match(
      readFileSync(host.outside(`${victim}/app.conf`), 'utf8'),
      new RegExp(`^root = ${inside}\n`),
      'the file outside is untouched',
    );
    const back = sh(`mv ${moved} ${quoted(inside)} && rm ${quoted(etc)} && mv ${victim} ${quoted(etc)}`);
    assert.equal(back.status, 0, back.stderr);
    const fixed = sh(`${quoted(`${inside}/bin/kiln-relocate`)} && ${quoted(`${inside}/bin/kiln-relocate`)} --verify`);
    assert.equal(fixed.status, 0, fixed.stdout + fixed.stderr);
  });

  await t.test('a changed file is found by the script and by kiln bundle verify', async () => {
    const data = host.outside(`${inside}/share/app/data.txt`);
    writeFileSync(data, 'changed\n');
    rmSync(host.outside(`${inside}/bin/dash`));
    const verify = sh(`${quoted(`${inside}/bin/kiln-relocate`)} --verify`);
    assert.equal(verify.status, 1);
    assert.equal(
      verify.stdout,
      `missing: bin/dash\nchanged: share/app/data.txt\nkiln-relocate: 2 problem(s) in ${inside}\n`,
    );
    const binary = host.outside(`${inside}/bin/app`);
    const bytes = readFileSync(binary);
    const at = bytes.indexOf(Buffer.from(inside)) + 1;
    bytes[at] = bytes[at]! ^ 1;
    writeFileSync(binary, bytes);
    const result = await kiln(['bundle', 'verify', outside]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /content +share\/app\/data\.txt/);
    assert.match(result.stdout, /content +bin\/app/);
    assert.match(result.stdout, /missing +bin\/dash/);
    assert.match(result.stdout, /3 problem\(s\)/);
    // The script finds the binary change too: its binary files are checked in a scratch copy, put back to the placeholder.
    const again = sh(`${quoted(`${inside}/bin/kiln-relocate`)} --verify`);
    assert.equal(
      again.stdout,
      `missing: bin/dash\nchanged: share/app/data.txt\nchanged: bin/app\nkiln-relocate: 3 problem(s) in ${inside}\n`,
    );
  });

  await t.test('--relocate-to writes the files already relocated; .tar.zst unpacks with tar --zstd', async () => {
    const target = `${home}/ready`;
    const out = join(dir, 'ready.tar.zst');
    await ok(['--prefix', prefix, 'bundle', 'app', '--out', out, '--relocate-to', target]);
    copyFileSync(out, host.outside('/tmp/ready.tar.zst'));
    chmodSync(host.outside('/tmp/ready.tar.zst'), 0o644);
    const run = sh(
      `mkdir ${target} && tar --zstd -xf /tmp/ready.tar.zst -C ${target} && ${target}/bin/app && ${target}/bin/kiln-relocate`,
    );
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^data=data ok\n.*already names itself/s);
    await fails(
      [
        '--prefix',
        prefix,
        'bundle',
        'app',
        '--out',
        join(dir, 'x.tar.gz'),
        '--relocate-to',
        `/${'y'.repeat(PH.length)}`,
      ],
      'E_RELOCATE',
      /room for 102/,
    );
    assert.ok(
      !existsSync(join(dir, 'x.tar.gz')) && !existsSync(join(dir, 'x.tar.gz.part')),
      'no tarball is left behind',
    );
  });

  await t.test('--from-remotes bundles what this prefix has not installed, with the same files', async () => {
    const empty = await syncedPrefix(dir, join(dir, 'empty'));
    const out = join(dir, 'remote.tar.gz');
    const result = await ok(['--prefix', empty, 'bundle', 'app', '--from-remotes', '--out', out]);
    assert.match(result, /install +app/);
    const fromRemote = manifestOf(out).files.map((file) => [file.path, file.sha256 ?? file.target ?? '']);
    const fromPrefix = manifestOf(gz).files.map((file) => [file.path, file.sha256 ?? file.target ?? '']);
    assert.deepEqual(fromRemote, fromPrefix);
    assert.equal((await kiln(['--prefix', empty, 'list'])).stdout, '', 'the prefix itself did not change');
  });

  await t.test('another user who can read the prefix bundles it without its writer lock', async (tt) => {
    if (user === undefined) return tt.skip('needs root, to run kiln as another user');
    chmodSync(dir, 0o755);
    const out = join(host.outside(home), 'read-only.tar.gz');
    await okAs(user, ['--prefix', prefix, 'bundle', 'app', '--out', out]);
    assert.deepEqual(
      manifestOf(out).files.map((file) => file.sha256 ?? ''),
      manifestOf(gz).files.map((file) => file.sha256 ?? ''),
    );
  });

  await t.test('bad requests get clear errors and write nothing', async () => {
    await fails(
      ['--prefix', prefix, 'bundle', 'nosuch', '--out', join(dir, 'n.tar.gz')],
      'E_NOT_INSTALLED',
      /cannot bundle nosuch: it is not installed/,
    );
    await fails(
      ['--prefix', prefix, 'bundle', 'app', '--out', join(dir, 'n.zip')],
      'E_USAGE',
      /must end in \.tar\.zst, \.tar\.gz/,
    );
    await fails(
      ['--prefix', prefix, 'bundle', 'app', '--out', join(dir, 'n.tar'), '--with', 'src'],
      'E_USAGE',
      /--with takes dev or docs/,
    );
    // A file changed since it was installed: bundling it would spread the damage.
    writeFileSync(join(prefix, 'share/app/data.txt'), 'damaged\n');
    await fails(
      ['--prefix', prefix, 'bundle', 'app', '--out', join(dir, 'n.tar.gz')],
      'E_BUNDLE',
      /share\/app\/data\.txt was changed since it was installed/,
    );
    assert.ok(!existsSync(join(dir, 'n.tar.gz')) && !existsSync(join(dir, 'n.tar.gz.part')));
    await fails(['bundle', 'verify', dir], 'E_BUNDLE', /is not an unpacked Kiln bundle/);
    // --prefix is the prefix to bundle from; the directory on the target is --relocate-to.
    const mistaken = await fails(
      ['bundle', 'app', '--out', join(dir, 'n.tar.gz'), '--prefix', '/opt/target'],
      'E_PREFIX_NOT_FOUND',
      /cannot open prefix \/opt\/target/,
    );
    assert.match(mistaken.stderr, /use --relocate-to DIR/);
  });
});
