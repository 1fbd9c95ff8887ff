/**
 * `kiln pack` and `kiln inspect` through the real CLI: reproducible output,
 * what the manifest and relocation table record, and packages that standard
 * tools (tar, zstd) can open.
 */
import * as assert from 'node:assert/strict';
import { chmod, readFile, readdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { PackageMetadata } from '../src/format/index.js';
import { makeTree, writeMeta } from './helpers/fixtures.js';
import { kiln, run, tempDir, parseJson } from './helpers/kiln.js';

const PLACEHOLDER = '/opt/kiln-placeholder-for-tests-0123456789abcdef';

async function ok(args: string[], cwd: string): Promise<string> {
  const result = await kiln(args, { cwd });
  assert.equal(result.code, 0, `kiln ${args.join(' ')}\n${result.stderr}`);
  return result.stdout;
}

const binary = Buffer.concat([
  Buffer.from('\u007fELF\u0002\u0001\u0001\u0000'),
  Buffer.alloc(100),
  Buffer.from(`${PLACEHOLDER}/etc/tool.conf\u0000`),
  Buffer.alloc(50, 1),
  Buffer.from(`${PLACEHOLDER}/share\u0000`),
]);

async function stage(root: string): Promise<void> {
  await makeTree(root, {
    'bin/tool': { content: binary, mode: 0o755 },
    'bin/tool-script': { content: `#!/bin/sh\nexec ${PLACEHOLDER}/bin/tool "$@"\n`, mode: 0o755 },
    'bin/tool-alias': { hardlink: 'bin/tool' },
    'etc/tool.conf': 'level=3\n',
    'lib/libtool.so.1.0.0': Buffer.alloc(3000, 9),
    'lib/libtool.so.1': { symlink: 'libtool.so.1.0.0' },
    'var/spool/tool': { dir: true, mode: 0o700 },
  });
}

const meta = {
  extra: {
    placeholder: PLACEHOLDER,
    configFiles: ['etc/tool.conf'],
    permissions: [{ path: 'bin/tool', owner: 'toold', group: 'tool', mode: '04755' }],
    users: [{ name: 'toold', group: 'tool', home: 'var/spool/tool', shell: '/usr/sbin/nologin' }],
    groups: [{ name: 'tool' }],
    directories: [{ path: 'var/log/tool', owner: 'toold', group: 'tool', mode: '0750' }],
    provides: { sonames: ['libtool.so.1'] },
  },
  options: { ssl: true, debug: false },
};

test('pack is reproducible: the same tree and metadata give the same bytes, whatever the mtimes and creation order', async (t) => {
  const dir = await tempDir(t);
  await ok(['key', 'generate', '--out', 'keys'], dir);
  await stage(join(dir, 'a'));
  await stage(join(dir, 'b'));
  await utimes(join(dir, 'b', 'etc', 'tool.conf'), new Date('2001-01-01'), new Date('2001-01-01'));
  await chmod(join(dir, 'b', 'bin'), 0o755);
  await writeMeta(join(dir, 'meta.json'), meta);
  const first = parseJson(
    await ok(['pack', 'a', '--meta', 'meta.json', '--out', 'out1', '--key', 'keys/kiln.key', '--json'], dir),
  ) as { path: string };
  const second = parseJson(
    await ok(['pack', 'b', '--meta', 'meta.json', '--out', 'out2', '--key', 'keys/kiln.key', '--json'], dir),
  ) as { path: string };
  assert.ok(
    (await readFile(join(dir, first.path))).equals(await readFile(join(dir, second.path))),
    'byte-identical packages',
  );
});

test('inspect shows what pack recorded: owners by name, modes, links, config files, the relocation table', async (t) => {
  const dir = await tempDir(t);
  await ok(['key', 'generate', '--out', 'keys'], dir);
  await stage(join(dir, 'stage'));
  await writeMeta(join(dir, 'meta.json'), meta);
  const packed = parseJson(
    await ok(['pack', 'stage', '--meta', 'meta.json', '--out', 'out', '--key', 'keys/kiln.key', '--json'], dir),
  ) as { path: string; variant: string };
  assert.match(packed.path, new RegExp(`^out/hello-1.0-${packed.variant}\\.kpkg$`));
  const report = parseJson(await ok(['inspect', packed.path, '--trust', 'keys/kiln.pub', '--json'], dir)) as {
    metadata: PackageMetadata;
    signature: { status: string };
    verified: boolean;
  };
  assert.equal(report.signature.status, 'valid');
  assert.equal(report.verified, true);
  const files = new Map(report.metadata.files.map((entry) => [entry.path, entry]));
  assert.deepEqual(
    [...files.keys()],
    [
      'bin',
      'bin/tool',
      'bin/tool-alias',
      'bin/tool-script',
      'etc',
      'etc/tool.conf',
      'lib',
      'lib/libtool.so.1',
      'lib/libtool.so.1.0.0',
      'var',
      'var/spool',
      'var/spool/tool',
    ],
  );
  assert.deepEqual(
    { ...files.get('bin/tool'), sha256: undefined },
    {
      path: 'bin/tool',
      type: 'file',
      mode: '04755',
      owner: 'toold',
      group: 'tool',
      size: binary.length,
      sha256: undefined,
    },
  );
  assert.deepEqual(files.get('bin/tool-alias'), {
    path: 'bin/tool-alias',
    type: 'hardlink',
    mode: '04755',
    owner: 'toold',
    group: 'tool',
    size: 0,
    target: 'bin/tool',
  });
  assert.deepEqual(files.get('lib/libtool.so.1'), {
    path: 'lib/libtool.so.1',
    type: 'symlink',
    mode: '0777',
    owner: 'root',
    group: 'root',
    size: 0,
    target: 'libtool.so.1.0.0',
  });
  assert.equal(files.get('etc/tool.conf')?.config, true);
  assert.equal(files.get('var/spool/tool')?.mode, '0700');
  const offset1 = binary.indexOf(PLACEHOLDER);
  const offset2 = binary.indexOf(PLACEHOLDER, offset1 + 1);
  assert.deepEqual(report.metadata.relocation, {
    placeholder: PLACEHOLDER,
    files: [
      { path: 'bin/tool', kind: 'binary', offsets: [offset1, offset2] },
      { path: 'bin/tool-script', kind: 'text', offsets: [15] },
    ],
  });
  assert.deepEqual(report.metadata.directories, [
    { path: 'var/log/tool', owner: 'toold', group: 'tool', mode: '0750' },
  ]);
  assert.deepEqual(report.metadata.options, { debug: false, ssl: true });

  const text = await ok(['inspect', packed.path], dir);
  assert.match(text, /signature +key [0-9A-F]{16} \(not checked: pass --trust KEY.pub\)/);
  assert.match(text, /-04755\s+toold:tool\s+\d+\s+relocate\s+bin\/tool\n/);
  assert.match(text, /-0644\s+root:root\s+8\s+config\s+etc\/tool.conf/);
});

test('standard tools open a package: tar lists the container, zstd and tar the payload', async (t) => {
  const dir = await tempDir(t);
  await stage(join(dir, 'stage'));
  await writeMeta(join(dir, 'meta.json'), meta);
  await ok(['pack', 'stage', '--meta', 'meta.json', '--out', 'out'], dir);
  const [file] = await readdir(join(dir, 'out'));
  const outer = await run('tar', ['-tf', `out/${file}`], { cwd: dir });
  assert.equal(outer.stdout, 'kiln-package\nmetadata.json\npayload.tar.zst\n', 'unsigned: no signature entry');
  const inner = await run('bash', ['-c', `tar -xOf out/${file} payload.tar.zst | zstd -dc | tar -tvf -`], { cwd: dir });
  assert.equal(inner.code, 0, inner.stderr);
  assert.match(inner.stdout, /-rwsr-xr-x toold\/tool\s+\d+ 1970-01-01 00:00 bin\/tool\n/);
  assert.match(inner.stdout, /lrwxrwxrwx root\/root\s+0 1970-01-01 00:00 lib\/libtool.so.1 -> libtool.so.1.0.0/);
});

test('pack explains bad metadata and names the field', async (t) => {
  const dir = await tempDir(t);
  await stage(join(dir, 'stage'));
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ extra: { license: 'GPL-2.0 OR' } }, /license "GPL-2.0 OR" is not a valid SPDX license expression/],
    [{ version: '1.0-beta' }, /version "1.0-beta" is not a valid version/],
    [
      { extra: { configFiles: ['etc/missing.conf'] } },
      /configFiles names "etc\/missing.conf", which is not in the staged tree/,
    ],
    [{ extra: { permissions: [{ path: 'lib/libtool.so.1', mode: '0755' }] } }, /permissions cannot be set on symlink/],
    [{ extra: { colour: 'blue' } }, /colour is not a known field/],
    [{ options: { 'bad flag': true } }, /not a valid option name/],
  ];
  for (const [spec, pattern] of cases) {
    await writeMeta(join(dir, 'bad.json'), spec);
    const result = await kiln(['pack', 'stage', '--meta', 'bad.json', '--out', 'out'], { cwd: dir });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /error\[E_META\]/);
    assert.match(result.stderr, pattern);
  }
  const toml = await kiln(['pack', 'stage', '--meta', 'missing.toml', '--out', 'out'], { cwd: dir });
  assert.match(toml.stderr, /error\[E_IO\]: cannot read pack input missing.toml: no such file/);
});
