/**
 * A repository for the web catalog's tests, built the way a maintainer
 * builds one: real shared libraries and a program linked against them
 * (compiled here with gcc), packed with `kiln pack` and published in two
 * commits.
 *
 * serial 2: zlib 1.3.1 (provides libz.so.1), pcre2 10.42 (libpcre2-8.so.0),
 *           nginx 1.24.0 in two variants (+ssl, -ssl) needing both,
 *           `evil`, whose summary, homepage and file name are hostile
 *           markup, and oldtool
 * serial 3: nginx 1.26.0 added, oldtool removed, and the advisory shipped for
 *           nginx (CVE-2023-44487: +ssl variants before 1.25.3) published
 */
import * as assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ok } from './client.js';
import { KILN_BIN, kiln, parseJson, run } from './kiln.js';

export const HOSTILE_SUMMARY = '<script>document.title="owned"</script><img src=x onerror=alert(1)>';

export interface CatalogRepository {
  /** The maintainer's directory. */
  repo: string;
  published: string;
  /** The repository's public key file. */
  publicKey: string;
}

async function gcc(args: string[], cwd: string): Promise<void> {
  const result = await run('gcc', args, { cwd });
  assert.equal(result.code, 0, `gcc ${args.join(' ')}\n${result.stderr}`);
}

export async function catalogRepository(dir: string): Promise<CatalogRepository> {
  const keyResult = await kiln(['key', 'generate', '--out', 'keys'], { cwd: dir });
  assert.ok(keyResult.code === 0 || keyResult.stderr.includes('E_KEY_EXISTS'), keyResult.stderr);
  const src = join(dir, 'src');
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'z.c'), 'int zlibVersion_(void) { return 131; }\n');
  await writeFile(join(src, 'p.c'), 'int pcre2_version_(void) { return 1042; }\n');
  await writeFile(
    join(src, 'nginx.c'),
    '#include <stdio.h>\nint zlibVersion_(void); int pcre2_version_(void);\nint main(void) { printf("%d %d\\n", zlibVersion_(), pcre2_version_()); return 0; }\n',
  );
  await gcc(['-shared', '-fPIC', '-Wl,-soname,libz.so.1', '-o', 'libz.so.1', 'z.c'], src);
  await gcc(['-shared', '-fPIC', '-Wl,-soname,libpcre2-8.so.0', '-o', 'libpcre2-8.so.0', 'p.c'], src);
  await gcc(['-o', 'nginx', 'nginx.c', join(src, 'libz.so.1'), join(src, 'libpcre2-8.so.0')], src);

  const pack = async (
    id: string,
    meta: Record<string, unknown>,
    files: Record<string, { from: string; mode: number } | string>,
  ): Promise<string> => {
    const stage = join(dir, 'stages', id);
    for (const [path, file] of Object.entries(files)) {
      await mkdir(join(stage, path, '..'), { recursive: true });
      if (typeof file === 'string') await writeFile(join(stage, path), file);
      else await writeFile(join(stage, path), await readFile(join(src, file.from)), { mode: file.mode });
    }
    const metaPath = join(dir, 'stages', `${id}.json`);
    await writeFile(
      metaPath,
      JSON.stringify({
        category: 'app-misc',
        homepage: 'https://example.org/',
        license: 'MIT',
        options: {},
        target: { arch: 'x86_64', cpu: 'x86-64', libc: 'glibc', libcVersion: '2.17' },
        depends: [],
        ...meta,
      }),
    );
    const out = parseJson(
      await ok(['pack', stage, '--meta', metaPath, '--out', 'out', '--key', 'keys/kiln.key', '--json'], { cwd: dir }),
    ) as { path: string };
    return out.path;
  };
  const nginx = (version: string, ssl: boolean) =>
    pack(
      `nginx-${version}-${ssl}`,
      {
        name: 'nginx',
        category: 'www-servers',
        version,
        summary: 'Robust, small and high performance HTTP and reverse proxy server',
        homepage: 'https://nginx.org/',
        license: 'BSD-2-Clause',
        options: { ssl },
        defaults: { ssl: true },
        depends: ['zlib >=1.3', 'pcre2'],
      },
      { 'sbin/nginx': { from: 'nginx', mode: 0o755 }, 'share/nginx/html/index.html': '<h1>nginx</h1>\n' },
    );
  const first = [
    await pack(
      'zlib',
      {
        name: 'zlib',
        category: 'sys-libs',
        version: '1.3.1',
        summary: 'Standard (de)compression library',
        license: 'Zlib',
      },
      { 'lib/libz.so.1': { from: 'libz.so.1', mode: 0o755 }, 'include/zlib.h': '/* zlib */\n' },
    ),
    await pack(
      'pcre2',
      {
        name: 'pcre2',
        category: 'dev-libs',
        version: '10.42',
        summary: 'Perl-compatible regular expression library',
        license: 'BSD-3-Clause',
      },
      { 'lib/libpcre2-8.so.0': { from: 'libpcre2-8.so.0', mode: 0o755 } },
    ),
    await nginx('1.24.0', true),
    await nginx('1.24.0', false),
    await pack(
      'evil',
      {
        name: 'evil',
        version: '1.0',
        summary: HOSTILE_SUMMARY,
        homepage: 'https://example.org/"><script>alert(1)</script>',
      },
      { 'share/evil/<b>bold</b>.txt': 'x\n' },
    ),
    await pack(
      'oldtool',
      { name: 'oldtool', version: '0.9', summary: 'A tool that is retired' },
      { 'bin/oldtool': 'x\n' },
    ),
  ];
  const init = await kiln(['repo', 'init', 'repo', '--key', 'keys/kiln.key', '--name', 'main'], { cwd: dir });
  assert.equal(init.code, 0, init.stderr);
  await ok(['repo', 'add', 'repo', ...first], { cwd: dir });
  await ok(['repo', 'commit', 'repo', '--message', 'first packages'], { cwd: dir });
  await ok(['repo', 'add', 'repo', await nginx('1.26.0', true)], { cwd: dir });
  await ok(['repo', 'remove', 'repo', 'oldtool'], { cwd: dir });
  await ok(['repo', 'advisory', 'add', 'repo', resolve(dirname(KILN_BIN), '../../../advisories/CVE-2023-44487.json')], {
    cwd: dir,
  });
  await ok(['repo', 'commit', 'repo', '--message', 'nginx 1.26.0; oldtool retired'], { cwd: dir });
  const published = join(dir, 'repo', 'public');
  return { repo: join(dir, 'repo'), published, publicKey: join(dir, 'keys', 'kiln.pub') };
}
