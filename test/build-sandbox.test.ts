/**
 * The build sandbox, end to end with real bubblewrap and gcc: a recipe that
 * reaches for the host's zlib — its shared library, its static library, its
 * header, its pkg-config file — fails to build, naming what it looked for
 * and where the host has it, instead of publishing a package that silently
 * carries host code; a recipe using only the toolchain builds and runs; the
 * build has no network and cannot write outside its work tree. Where the
 * sandbox cannot be set up (here: inside an outer sandbox without
 * capabilities or user namespaces, as in a locked-down container), builds
 * are refused unless explicitly allowed.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { initPrefix, openPrefix } from '../src/install/index.js';
import { fails, ok } from './helpers/client.js';
import { KILN_BIN, run, tempDir, parseJson } from './helpers/kiln.js';
import { newRepository, sourceTarball, writeRecipe } from './helpers/ports.js';

/** The host's zlib development files: what the leaking recipes reach for (Debian's zlib1g-dev). */
const HOST_ZLIB = {
  header: '/usr/include/zlib.h',
  shared: '/usr/lib/x86_64-linux-gnu/libz.so',
  static: '/usr/lib/x86_64-linux-gnu/libz.a',
  pkgconfig: '/usr/lib/x86_64-linux-gnu/pkgconfig/zlib.pc',
};

const SOURCES = {
  'plain.c': '#include <math.h>\n#include <stdio.h>\nint main(void) { printf("%.3f\\n", sqrt(2.0)); return 0; }\n',
  'zheader.c': '#include <stdio.h>\n#include <zlib.h>\nint main(void) { puts(ZLIB_VERSION); return 0; }\n',
  'zlink.c':
    '#include <stdio.h>\nextern const char *zlibVersion(void);\nint main(void) { puts(zlibVersion()); return 0; }\n',
};
const INTO_BIN = 'mkdir -p "$DESTDIR$KILN_PREFIX/bin"\n';

test('a build sees only the toolchain: host libraries, headers and pkg-config files are not found; the toolchain alone builds', async (t) => {
  for (const path of Object.values(HOST_ZLIB))
    assert.ok(
      existsSync(path),
      `${path} is missing: the leak cases need the host's zlib development files (apt-get install zlib1g-dev pkgconf)`,
    );
  const dir = await tempDir(t);
  await newRepository(dir, 'sandbox');
  const distfiles = join(dir, 'distfiles');
  const sha = await sourceTarball(distfiles, SOURCES);
  const recipe = (name: string, script: string): Promise<void> =>
    writeRecipe(join(dir, 'ports', 'test', name), name, sha, script);
  const common = [
    '--repo',
    'repo',
    '--recipes',
    join(dir, 'ports'),
    '--distfiles',
    distfiles,
    '--work',
    join(dir, 'work'),
  ];

  await recipe('hostshared', `${INTO_BIN}gcc $CFLAGS $LDFLAGS -o "$DESTDIR$KILN_PREFIX/bin/prog" zlink.c -lz\n`);
  await recipe('hoststatic', `${INTO_BIN}gcc $CFLAGS $LDFLAGS -o "$DESTDIR$KILN_PREFIX/bin/prog" zlink.c -l:libz.a\n`);
  await recipe(
    'hostheader',
    `${INTO_BIN}gcc $CFLAGS $CPPFLAGS $LDFLAGS -o "$DESTDIR$KILN_PREFIX/bin/prog" zheader.c\n`,
  );
  // As a build system that sets its own search path does: the host's modules must stay out of reach even then.
  await recipe(
    'hostpkgconfig',
    `${INTO_BIN}unset PKG_CONFIG_LIBDIR PKG_CONFIG_PATH\nzlib_cflags=$(pkg-config --cflags zlib)\ngcc $CFLAGS $zlib_cflags $LDFLAGS -o "$DESTDIR$KILN_PREFIX/bin/prog" zheader.c\n`,
  );

  await t.test(
    'each leak fails the build, naming what was not found and where the host has it; nothing is published',
    async () => {
      await fails(
        ['build', 'test/hostshared', ...common],
        'E_BUILD',
        /cannot build test\/hostshared: the build script exited with status 1; it looked for what the sandbox hides and this host has: library -lz \(\/usr\/lib\/x86_64-linux-gnu\/libz\.so\)[\s\S]*cannot find -lz/,
        { cwd: dir },
      );
      await fails(
        ['build', 'test/hoststatic', ...common],
        'E_BUILD',
        /cannot build test\/hoststatic: .*library -l:libz\.a \(\/usr\/lib\/x86_64-linux-gnu\/libz\.a\)[\s\S]*cannot find -l:libz\.a/,
        { cwd: dir },
      );
      const header = await fails(
        ['build', 'test/hostheader', ...common],
        'E_BUILD',
        /cannot build test\/hostheader: .*header zlib\.h \(\/usr\/include\/zlib\.h\)[\s\S]*fatal error: zlib\.h: No such file or directory/,
        { cwd: dir },
      );
      assert.match(
        header.stderr,
        /hint: a build sees only the toolchain and what its build dependencies installed into \$KILN_PREFIX .*add the recipe that provides zlib\.h to build-depends/,
      );
      await fails(
        ['build', 'test/hostpkgconfig', ...common],
        'E_BUILD',
        /cannot build test\/hostpkgconfig: .*pkg-config module zlib \(\/usr\/lib\/x86_64-linux-gnu\/pkgconfig\/zlib\.pc\)/,
        { cwd: dir },
      );
      const status = parseJson(await ok(['repo', 'status', 'repo', '--json'], { cwd: dir })) as {
        published: { packages: number } | null;
      };
      assert.equal(status.published?.packages ?? 0, 0, 'no leaking build published a package');
    },
  );

  await t.test(
    'a recipe using only the toolchain builds and runs; the build has no network and cannot write outside its work tree',
    async () => {
      // A server on the host's loopback: inside the sandbox, 127.0.0.1 is the sandbox's own, where nothing listens.
      const server = createServer((socket) => socket.end());
      await new Promise<void>((listening) => server.listen(0, '127.0.0.1', () => listening()));
      t.after(() => server.close());
      const port = (server.address() as AddressInfo).port;
      // Beside the work tree: in the sandbox, a directory of its own /tmp (the work tree is bound into it), not the host's.
      const outside = join(dir, 'outside-the-work-tree');
      await recipe(
        'toolchain',
        [
          `if (exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null; then echo "the build reached the host's network" >&2; exit 1; fi`,
          'if (echo escaped > "$KILN_RECIPE_DIR/escaped") 2>/dev/null; then echo "the build wrote into its recipe" >&2; exit 1; fi',
          `echo escaped > ${outside}`,
          `${INTO_BIN}gcc $CFLAGS $CPPFLAGS $LDFLAGS -o "$DESTDIR$KILN_PREFIX/bin/prog" plain.c -lm`,
          '',
        ].join('\n'),
      );
      const built = parseJson(await ok(['build', 'test/toolchain', ...common, '--json'], { cwd: dir })) as {
        sandbox: string;
        depends: unknown[];
        notes: string[];
        log: string;
      }[];
      assert.equal(built[0]!.sandbox, 'bubblewrap');
      assert.deepEqual(built[0]!.depends, [], "the C library and libm are the system's");
      assert.equal(
        existsSync(outside),
        false,
        'what the build wrote outside its work tree and prefix is gone with the sandbox',
      );
      assert.match(
        await readFile(built[0]!.log, 'utf8'),
        /== sandbox: bubblewrap, no network; of the host only the toolchain, read only: \d+ Debian packages \(the essential ones, gcc, /,
      );

      const prefix = join(dir, 'prefix');
      await initPrefix(prefix, { mode: 'user' });
      const client = await openPrefix(prefix);
      try {
        await client.addRemote('sandbox', join(dir, 'repo', 'public'), [
          await readFile(
            join(dir, 'repo', 'public', 'keys', readdirSync(join(dir, 'repo', 'public', 'keys'))[0]!),
            'utf8',
          ),
        ]);
        await client.sync();
        await client.install([{ name: 'toolchain', range: '' }]);
      } finally {
        client.close();
      }
      assert.equal(execFileSync(join(prefix, 'bin', 'prog'), { encoding: 'utf8' }), '1.414\n');
    },
  );

  await t.test(
    'where namespaces cannot be made, a build is refused unless unsandboxed builds are allowed, and then it says so',
    async () => {
      await recipe('plain', `${INTO_BIN}gcc $CFLAGS $LDFLAGS -o "$DESTDIR$KILN_PREFIX/bin/prog" plain.c -lm\n`);
      // An outer sandbox as a locked-down container is: no capability, and no new user namespace allowed. Kiln's sandbox cannot make its namespaces there.
      const noUserNamespaces = [
        '--dev-bind',
        '/',
        '/',
        '--unshare-user',
        '--disable-userns',
        '--cap-drop',
        'ALL',
        '--',
        process.execPath,
        KILN_BIN,
      ];
      const work = join(dir, 'work-unsandboxed');
      const args = ['build', 'test/plain', ...common.slice(0, -1), work, '--json'];
      const refused = await run('bwrap', [...noUserNamespaces, ...args], { cwd: dir });
      assert.equal(refused.code, 1, refused.stderr);
      // With --json the error is JSON on stderr.
      const error = (parseJson(refused.stderr) as { error: { code: string; message: string; hint: string } }).error;
      assert.equal(error.code, 'E_SANDBOX');
      assert.match(
        error.message,
        /^cannot build test\/plain: builds run in a sandbox that shows them only the toolchain, and it cannot be set up here: \S*bwrap cannot make its namespaces here/,
      );
      assert.match(error.hint, /^install bubblewrap .* or set KILN_ALLOW_UNSANDBOXED=1 to build without a sandbox/);
      assert.equal(existsSync(work), false, 'refused before any work');

      const allowed = await run('bwrap', [...noUserNamespaces, ...args], {
        cwd: dir,
        env: { KILN_ALLOW_UNSANDBOXED: '1' },
      });
      assert.equal(allowed.code, 0, allowed.stderr);
      const [result] = parseJson(allowed.stdout) as { sandbox: string; notes: string[]; log: string }[];
      assert.equal(result!.sandbox, 'none');
      assert.match(
        result!.notes.join('\n'),
        /built without a sandbox \(KILN_ALLOW_UNSANDBOXED=1\): .*cannot make its namespaces here.*; host headers and libraries were visible to the build/,
      );
      assert.match(await readFile(result!.log, 'utf8'), /== built without a sandbox/);
    },
  );
});
