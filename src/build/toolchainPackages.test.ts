import * as assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseDpkgStatus, readAlternativeLinks } from './dpkgDatabase.js';
import { toolchainPackages } from './toolchainPackages.js';

/** A dpkg status file in miniature: what the toolchain closure has to get right. */
const STATUS = `Package: dpkg
Status: install ok installed
Essential: yes
Architecture: amd64
Pre-Depends: libc6 (>= 2.34), tar (>= 1.28-1)
Description: the package manager
 continued over a line that starts with a space

Package: tar
Status: install ok installed
Essential: yes
Architecture: amd64

Package: libc6
Status: install ok installed
Architecture: amd64

Package: libc6
Status: install ok installed
Architecture: i386

Package: gcc
Status: install ok installed
Architecture: amd64
Depends: cpp (= 4:12.2.0-3), gcc-12 (>= 12.2.0-1~)

Package: gcc-12
Status: install ok installed
Architecture: amd64
Depends: binutils (>= 2.40), libgcc-12-dev (= 12.2.0-14), libc6 (>= 2.36), zlib1g (>= 1:1.1.4)

Package: libgcc-12-dev
Status: install ok installed
Architecture: amd64

Package: libc6-dev
Status: install ok installed
Architecture: amd64
Provides: libc-dev (= 2.36-9)
Depends: libc6 (= 2.36-9), linux-libc-dev, libnsl-dev

Package: libnsl-dev
Status: install ok installed
Architecture: amd64
Depends: libtirpc-dev

Package: libtirpc-dev
Status: install ok installed
Architecture: amd64

Package: linux-libc-dev
Status: install ok installed
Architecture: amd64

Package: zlib1g
Status: install ok installed
Architecture: amd64

Package: zlib1g-dev
Status: install ok installed
Architecture: amd64
Depends: zlib1g (= 1:1.2.13), libc6-dev | libc-dev

Package: cmake
Status: deinstall ok config-files
Architecture: amd64

Package: make
Status: install ok installed
Architecture: amd64
Depends: libc6 (>= 2.27), libfoo-dev | zlib1g
`;

describe('parseDpkgStatus', () => {
  it('keeps installed packages with their dependencies by name, alternatives as groups', () => {
    const packages = parseDpkgStatus(STATUS);
    assert.equal(
      packages.some((pkg) => pkg.name === 'cmake'),
      false,
      'a removed package whose configuration stays is not installed',
    );
    const dpkg = packages.find((pkg) => pkg.name === 'dpkg')!;
    assert.equal(dpkg.essential, true);
    assert.deepEqual(dpkg.depends, [['libc6'], ['tar']]);
    assert.deepEqual(packages.find((pkg) => pkg.name === 'zlib1g-dev')!.depends, [
      ['zlib1g'],
      ['libc6-dev', 'libc-dev'],
    ]);
    assert.deepEqual(packages.find((pkg) => pkg.name === 'libc6-dev')!.provides, ['libc-dev']);
  });
});

describe('toolchainPackages', () => {
  it("closes the essential packages and the roots over their dependencies, leaving out other libraries' development packages", () => {
    const result = toolchainPackages(parseDpkgStatus(STATUS), ['gcc', 'libc6-dev', 'make', 'meson']);
    assert.deepEqual(
      result.packages.map((pkg) => pkg.name),
      ['dpkg', 'gcc', 'gcc-12', 'libc6', 'libc6-dev', 'libgcc-12-dev', 'linux-libc-dev', 'make', 'tar', 'zlib1g'],
    );
    assert.deepEqual(
      result.leftOut,
      ['libnsl-dev'],
      "reached through libc6-dev, and not the C library's own; its libtirpc-dev is not even reached",
    );
    assert.equal(
      result.packages.find((pkg) => pkg.name === 'libc6')!.architecture,
      'amd64',
      "the native architecture, dpkg's own",
    );
  });
  it('takes the first installed alternative of a dependency, by name or by what a package provides', () => {
    const packages = parseDpkgStatus(
      `${STATUS}\nPackage: app\nStatus: install ok installed\nArchitecture: amd64\nDepends: not-installed | libc-dev\n`,
    );
    assert.ok(toolchainPackages(packages, ['app']).packages.some((pkg) => pkg.name === 'libc6-dev'));
  });
});

describe('readAlternativeLinks', () => {
  it("reads master and slave links of dpkg's alternatives", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-dpkg-'));
    try {
      await mkdir(join(dir, 'alternatives'));
      await writeFile(
        join(dir, 'alternatives', 'cc'),
        'auto\n/usr/bin/cc\ncc.1.gz\n/usr/share/man/man1/cc.1.gz\n\n/usr/bin/gcc\n20\n/usr/share/man/man1/gcc.1.gz\n\n',
      );
      assert.deepEqual(await readAlternativeLinks(dir), [
        { link: '/usr/bin/cc', name: 'cc' },
        { link: '/usr/share/man/man1/cc.1.gz', name: 'cc.1.gz' },
      ]);
      assert.deepEqual(await readAlternativeLinks(join(dir, 'none')), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
