import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { isKilnError } from '../errors/index.js';
import { corruptCopy } from './corruptCopy.js';
import type { ElfInfo } from './readElf.js';
import { isElf, readElf, readInterpreter } from './readElf.js';

// readelf's messages are parsed below, so they must not be translated.
const TOOL_ENV = { ...process.env, LC_ALL: 'C' };

let dir = '';
/** Fixture paths by name, filled in by `before`. */
const files = new Map<string, string>();
/** Why `gcc -static` did not link, when it did not. */
let staticSkip: string | undefined;

function file(name: string): string {
  const path = files.get(name);
  assert.ok(path !== undefined, `no fixture ${name}`);
  return path;
}

function gcc(...args: string[]): void {
  execFileSync('gcc', args, { cwd: dir, env: TOOL_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-elf-read-'));
  writeFileSync(join(dir, 'kt.c'), 'int kt_answer(void) { return 42; }\n');
  // A versioned library, so that programs linked against it need versions from two files.
  writeFileSync(join(dir, 'kt.map'), 'KT_1.0 { global: kt_answer; local: *; };\n');
  writeFileSync(
    join(dir, 'main.c'),
    '#include <stdio.h>\nint kt_answer(void);\nint main(void) { printf("%d\\n", kt_answer()); return 0; }\n',
  );
  writeFileSync(
    join(dir, 'modern.c'),
    [
      '#define _GNU_SOURCE',
      '#include <stdio.h>',
      '#include <stdlib.h>',
      '#include <sys/random.h>',
      'int kt_answer(void);',
      'int main(void) {',
      '  unsigned char bytes[4];',
      '  int *p = reallocarray(NULL, 4, sizeof *p); /* GLIBC_2.26 */',
      '  if (p == NULL || getrandom(bytes, sizeof bytes, 0) < 0) return 1; /* GLIBC_2.25 */',
      '  free(p);',
      '  printf("%d\\n", kt_answer());',
      '  return 0;',
      '}',
      '',
    ].join('\n'),
  );
  // 32-bit fixtures link without libc (-nostdlib), which needs no 32-bit libraries installed.
  writeFileSync(join(dir, 'v32.c'), 'int v32(void) { return 32; }\n');
  writeFileSync(join(dir, 'v32.map'), 'V32_1.0 { global: v32; local: *; };\n');
  writeFileSync(join(dir, 'use32.c'), 'int v32(void);\nint use32(void) { return v32() + 1; }\n');

  const rpath = '-Wl,-rpath,/some/long/absolute/dir/lib';
  gcc('-shared', '-fPIC', '-Wl,-soname,libkt.so.1', '-Wl,--version-script,kt.map', '-o', 'libkt.so.1', 'kt.c');
  gcc('-o', 'exe-rpath', 'main.c', '-L.', '-l:libkt.so.1', rpath, '-Wl,--disable-new-dtags');
  gcc('-o', 'exe-runpath', 'main.c', '-L.', '-l:libkt.so.1', rpath, '-Wl,--enable-new-dtags');
  gcc('-o', 'exe-modern', 'modern.c', '-L.', '-l:libkt.so.1', rpath, '-Wl,--enable-new-dtags');
  gcc('-no-pie', '-o', 'exe-nopie', 'main.c', '-L.', '-l:libkt.so.1');
  gcc('-c', '-o', 'kt.o', 'kt.c');
  gcc(
    '-m32',
    '-shared',
    '-nostdlib',
    '-fPIC',
    '-Wl,-soname,libv32.so.1',
    '-Wl,--version-script,v32.map',
    '-o',
    'libv32.so.1',
    'v32.c',
  );
  gcc(
    '-m32',
    '-shared',
    '-nostdlib',
    '-fPIC',
    '-o',
    'libuse32.so',
    'use32.c',
    '-L.',
    '-l:libv32.so.1',
    '-Wl,-rpath,/opt/v32/long/lib',
    '-Wl,--disable-new-dtags',
  );
  for (const name of [
    'libkt.so.1',
    'exe-rpath',
    'exe-runpath',
    'exe-modern',
    'exe-nopie',
    'kt.o',
    'libv32.so.1',
    'libuse32.so',
  ])
    files.set(name, join(dir, name));
  try {
    gcc('-static', '-o', 'exe-static', 'main.c', 'kt.c');
    files.set('exe-static', join(dir, 'exe-static'));
  } catch (error) {
    staticSkip = `gcc -static failed, probably because libc.a is not installed: ${String((error as { stderr?: unknown }).stderr ?? error)}`;
  }
});

after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

type Summary = Pick<ElfInfo, 'type' | 'interpreter' | 'needed' | 'soname' | 'rpath' | 'runpath' | 'versionNeeds'>;

/** What readelf says about the fields compared here, in readElf's shape. */
function readelfSummary(path: string): Summary {
  const output = execFileSync('readelf', ['-W', '-h', '-l', '-d', '-V', path], {
    encoding: 'utf8',
    env: TOOL_ENV,
    maxBuffer: 256 << 20,
  });
  const typeName = /^\s*Type:\s+(\w+)/m.exec(output)?.[1];
  const summary: Summary = { type: READELF_TYPES[typeName ?? ''] ?? 'other', needed: [], versionNeeds: [] };
  const interpreter = /\[Requesting program interpreter: (.*)\]/.exec(output)?.[1];
  if (interpreter !== undefined) summary.interpreter = interpreter;
  let inNeeds = false;
  for (const line of output.split('\n')) {
    const dynamic = /\((NEEDED|SONAME|RPATH|RUNPATH)\)\s+[^[]*\[(.*)\]$/.exec(line);
    if (dynamic !== null) {
      const [, tag, value = ''] = dynamic;
      if (tag === 'NEEDED') summary.needed.push(value);
      else if (tag === 'SONAME') summary.soname = value;
      else if (tag === 'RPATH') summary.rpath = value === '' ? [] : value.split(':');
      else summary.runpath = value === '' ? [] : value.split(':');
    }
    if (/^Version \w+ section/.test(line)) inNeeds = line.startsWith('Version needs section');
    if (!inNeeds) continue;
    const needFile = /File: (\S+)\s+Cnt:/.exec(line)?.[1];
    if (needFile !== undefined) summary.versionNeeds.push({ file: needFile, versions: [] });
    const version = /Name: (\S+)\s+Flags:/.exec(line)?.[1];
    if (version !== undefined) summary.versionNeeds.at(-1)?.versions.push(version);
  }
  return summary;
}

const READELF_TYPES: Partial<Record<string, ElfInfo['type']>> = {
  REL: 'relocatable',
  EXEC: 'executable',
  DYN: 'shared',
  CORE: 'core',
};

function summarize(info: ElfInfo): Summary {
  const summary: Summary = { type: info.type, needed: info.needed, versionNeeds: info.versionNeeds };
  for (const key of ['interpreter', 'soname', 'rpath', 'runpath'] as const) {
    if (info[key] !== undefined) Object.assign(summary, { [key]: info[key] });
  }
  return summary;
}

/** The first `bytes` bytes of a file, without reading the rest. */
function head(path: string, bytes = 65536): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    return buffer.subarray(0, readSync(fd, buffer, 0, bytes, 0));
  } finally {
    closeSync(fd);
  }
}

function assertMatchesReadelf(path: string): ElfInfo {
  const info = readElf(readFileSync(path), path);
  assert.deepEqual(summarize(info), readelfSummary(path), path);
  return info;
}

describe('isElf', () => {
  it('checks the magic bytes only', () => {
    assert.equal(isElf(readFileSync(file('libkt.so.1'))), true);
    assert.equal(isElf(Buffer.from('\u007fELF')), true);
    assert.equal(isElf(Buffer.from('#!/bin/sh\n')), false);
    assert.equal(isElf(Buffer.from('\u007fEL')), false);
    assert.equal(isElf(Buffer.alloc(0)), false);
  });
});

describe('readElf: files compiled by gcc, compared with readelf', () => {
  it('reads a shared library: its soname, no interpreter and no run path', () => {
    const info = assertMatchesReadelf(file('libkt.so.1'));
    assert.equal(info.soname, 'libkt.so.1');
    assert.equal(info.type, 'shared');
    assert.equal(info.interpreter, undefined);
    assert.deepEqual([info.bits, info.endian, info.machine], [64, 'little', 62]);
  });

  it('reads DT_RPATH from an executable linked with --disable-new-dtags', () => {
    const info = assertMatchesReadelf(file('exe-rpath'));
    assert.deepEqual(info.rpath, ['/some/long/absolute/dir/lib']);
    assert.equal(info.runpath, undefined);
    assert.deepEqual(info.needed, ['libkt.so.1', 'libc.so.6']);
  });

  it('reads DT_RUNPATH from an executable linked with --enable-new-dtags', () => {
    const info = assertMatchesReadelf(file('exe-runpath'));
    assert.deepEqual(info.runpath, ['/some/long/absolute/dir/lib']);
    assert.equal(info.rpath, undefined);
  });

  it('reports a PIE executable as shared with an interpreter, and a non-PIE one as an executable', () => {
    const pie = assertMatchesReadelf(file('exe-runpath'));
    assert.equal(pie.type, 'shared');
    assert.match(pie.interpreter ?? '', /ld-linux/);
    const plain = assertMatchesReadelf(file('exe-nopie'));
    assert.equal(plain.type, 'executable');
    assert.equal(plain.interpreter, pie.interpreter);
  });

  it("reads the interpreter from a file's head alone, as readElf and readelf do from the whole file", (t) => {
    for (const name of ['exe-runpath', 'exe-nopie', 'libkt.so.1', 'libuse32.so'])
      assert.equal(readInterpreter(head(file(name)), name), readElf(readFileSync(file(name)), name).interpreter, name);
    // Node itself, about 100 MB: its first 64 KiB say which loader started this process.
    const readelf = /\[Requesting program interpreter: (.*)\]/.exec(
      execFileSync('readelf', ['-W', '-l', process.execPath], { encoding: 'utf8', env: TOOL_ENV }),
    )?.[1];
    assert.equal(readInterpreter(head(process.execPath), process.execPath), readelf);
    assert.throws(
      () => readInterpreter(head(file('exe-runpath'), 40), 'short'),
      (error: unknown) => isKilnError(error, 'E_ELF'),
      'a head shorter than the headers is E_ELF',
    );
    if (staticSkip !== undefined) t.skip(staticSkip);
    else assert.equal(readInterpreter(head(file('exe-static')), 'exe-static'), undefined);
  });

  it('reads the version needs of a program using newer glibc symbols', () => {
    const info = assertMatchesReadelf(file('exe-modern'));
    const libc = info.versionNeeds.find((need) => need.file === 'libc.so.6');
    assert.ok(libc !== undefined, JSON.stringify(info.versionNeeds));
    for (const version of ['GLIBC_2.25', 'GLIBC_2.26'])
      assert.ok(libc.versions.includes(version), `${version} missing from ${libc.versions.join(', ')}`);
    assert.deepEqual(info.versionNeeds.find((need) => need.file === 'libkt.so.1')?.versions, ['KT_1.0']);
  });

  it('reads a static executable as having no dynamic section', (t) => {
    if (staticSkip !== undefined) {
      t.skip(staticSkip);
      return;
    }
    const info = assertMatchesReadelf(file('exe-static'));
    assert.deepEqual([info.needed, info.versionNeeds, info.interpreter, info.rpath], [[], [], undefined, undefined]);
  });

  it('reads an object file as relocatable with empty lists', () => {
    const info = assertMatchesReadelf(file('kt.o'));
    assert.deepEqual(info, {
      bits: 64,
      endian: 'little',
      type: 'relocatable',
      machine: 62,
      needed: [],
      versionNeeds: [],
    });
  });

  it('reads 32-bit shared objects: DT_RPATH, a version script and the version need it causes', () => {
    const lib = assertMatchesReadelf(file('libv32.so.1'));
    assert.deepEqual([lib.bits, lib.machine, lib.soname], [32, 3, 'libv32.so.1']);
    const user = assertMatchesReadelf(file('libuse32.so'));
    assert.deepEqual(user.rpath, ['/opt/v32/long/lib']);
    assert.deepEqual(user.versionNeeds, [{ file: 'libv32.so.1', versions: ['V32_1.0'] }]);
  });
});

describe('readElf: where version needs are found', () => {
  /** In the records of `step` bytes from `start` to `end`, changes the first 32-bit little-endian `from` at `field` to `to`. */
  function retag(
    content: Buffer,
    start: number,
    end: number,
    step: number,
    field: number,
    from: number,
    to: number,
  ): void {
    for (let at = start; at < end; at += step) {
      if (content.readUInt32LE(at + field) === from) {
        content.writeUInt32LE(to, at + field);
        return;
      }
    }
    assert.fail(`no 0x${from.toString(16)} to change`);
  }

  it('prefers DT_VERNEED and falls back to the SHT_GNU_verneed section', () => {
    const path = file('exe-modern');
    const original = readFileSync(path);
    const expected = readElf(original, path).versionNeeds;
    assert.ok(expected.length >= 2);
    const shoff = Number(original.readBigUInt64LE(0x28));
    const sectionsEnd = shoff + 64 * original.readUInt16LE(0x3c);
    const dynamic = dynamicOffset(path);

    const withoutSection = Buffer.from(original);
    retag(withoutSection, shoff, sectionsEnd, 64, 4, 0x6ffffffe, 1); // sh_type SHT_GNU_verneed becomes SHT_PROGBITS
    assert.deepEqual(readElf(withoutSection, path).versionNeeds, expected);

    const withoutTag = Buffer.from(original);
    retag(withoutTag, dynamic, dynamic + 0x400, 16, 0, 0x6ffffffe, 21); // DT_VERNEED becomes DT_DEBUG
    assert.deepEqual(readElf(withoutTag, path).versionNeeds, expected);

    retag(withoutTag, shoff, sectionsEnd, 64, 4, 0x6ffffffe, 1);
    assert.deepEqual(readElf(withoutTag, path).versionNeeds, []);
  });
});

describe('readElf: system files, compared with readelf', () => {
  const candidates = [
    '/usr/lib/x86_64-linux-gnu/libz.so.1',
    '/usr/bin/ls',
    '/usr/lib/x86_64-linux-gnu/libc.so.6',
    '/usr/lib/x86_64-linux-gnu/libm.so.6',
    '/usr/lib/x86_64-linux-gnu/libstdc++.so.6',
    '/lib64/ld-linux-x86-64.so.2',
    '/usr/bin/expr',
    '/usr/bin/apropos',
    '/usr/bin/gcc',
    '/usr/bin/readelf',
    process.execPath,
  ];
  for (const candidate of candidates) {
    it(`reads ${candidate}`, (t) => {
      if (!existsSync(candidate)) {
        t.skip(`${candidate} is not installed here`);
        return;
      }
      const path = realpathSync(candidate);
      if (!isElf(readFileSync(path))) {
        t.skip(`${path} is not an ELF file here`);
        return;
      }
      assertMatchesReadelf(path);
    });
  }

  it('found at least the core system files', () => {
    assert.ok(['/usr/bin/ls', '/usr/lib/x86_64-linux-gnu/libc.so.6'].every((path) => existsSync(path)));
  });
});

describe('readElf: big-endian files', () => {
  // No big-endian linker is installed, but llvm-ifs writes ELF stubs for any target.
  // Its stubs have no program headers, so this also covers the section fallbacks.
  const ifs = ['llvm-ifs', 'llvm-ifs-14', 'llvm-ifs-15'].find((name) => {
    try {
      execFileSync(name, ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  for (const [arch, bits] of [
    ['PowerPC64', 64],
    ['PowerPC', 32],
  ] as const) {
    it(`reads a ${bits}-bit big-endian stub written by llvm-ifs`, (t) => {
      if (ifs === undefined) {
        t.skip('llvm-ifs is not installed');
        return;
      }
      const source = join(dir, `be${bits}.ifs`);
      const output = join(dir, `libbe${bits}.so`);
      writeFileSync(
        source,
        [
          '--- !ifs-v1',
          'IfsVersion: 3.0',
          'SoName: libbe.so.2',
          `Target: { ObjectFormat: ELF, Arch: ${arch}, Endianness: big, BitWidth: ${bits} }`,
          'NeededLibs:',
          '  - libc.so.6',
          '  - libm.so.6',
          'Symbols:',
          '  - { Name: foo, Type: Func }',
          '...',
          '',
        ].join('\n'),
      );
      execFileSync(ifs, [`--output-elf=${output}`, source], { stdio: ['ignore', 'ignore', 'pipe'] });
      const info = readElf(readFileSync(output), output);
      assert.deepEqual(info, {
        bits,
        endian: 'big',
        type: 'shared',
        machine: info.machine,
        needed: ['libc.so.6', 'libm.so.6'],
        soname: 'libbe.so.2',
        versionNeeds: [],
      });
    });
  }
});

/** 'parsed' or 'rejected' (E_ELF); any other exception fails the test, naming the case. */
function outcome(content: Buffer, label: string): 'parsed' | 'rejected' {
  try {
    readElf(content, 'hostile');
    return 'parsed';
  } catch (error) {
    if (isKilnError(error, 'E_ELF')) {
      assert.ok(error.message.startsWith('cannot read ELF file hostile: '), error.message);
      return 'rejected';
    }
    assert.fail(
      `${label}: expected a result or E_ELF, got ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
  }
}

/** The file offset of the dynamic section, as readelf reports it. */
function dynamicOffset(path: string): number {
  const match = /Dynamic section at offset 0x([0-9a-f]+)/.exec(
    execFileSync('readelf', ['-W', '-d', path], { encoding: 'utf8', env: TOOL_ENV }),
  );
  assert.ok(match?.[1] !== undefined);
  return Number.parseInt(match[1], 16);
}

describe('readElf: hostile input', { timeout: 120_000 }, () => {
  it('rejects a wrong class or byte order byte', () => {
    const content = readFileSync(file('libkt.so.1'));
    for (const [offset, value, fragment] of [
      [4, 3, 'its class byte is 3'],
      [5, 0, 'its byte order byte is 0'],
    ] as const) {
      const copy = Buffer.from(content);
      copy[offset] = value;
      assert.throws(
        () => readElf(copy, 'lib/libkt.so.1'),
        (error: unknown) =>
          isKilnError(error, 'E_ELF') &&
          error.message.startsWith('cannot read ELF file lib/libkt.so.1: ') &&
          error.message.includes(fragment),
      );
    }
    assert.throws(() => readElf(Buffer.from('#!/bin/sh\n'), 'bin/x'), {
      code: 'E_ELF',
      message: 'cannot read ELF file bin/x: it does not start with the ELF magic bytes',
    });
  });

  it('rejects version need records that are reached twice', () => {
    const path = file('exe-modern');
    const content = Buffer.from(readFileSync(path));
    const table = /Version needs section[^\n]*\n[^\n]*Offset: 0x([0-9a-f]+)/.exec(
      execFileSync('readelf', ['-W', '-V', path], { encoding: 'utf8', env: TOOL_ENV }),
    );
    assert.ok(table?.[1] !== undefined);
    const first = Number.parseInt(table[1], 16);
    const next = content.readUInt32LE(first + 12);
    assert.notEqual(next, 0, 'the fixture should need versions from two libraries');
    content.writeUInt32LE(next, first + 8); // vn_aux of the first record now points at the second record
    assert.throws(
      () => readElf(content, 'bin/x'),
      (error: unknown) => isKilnError(error, 'E_ELF') && /records loop back/.test(error.message),
    );
  });

  it('stops at the first DT_NULL entry, as the loader and readelf do', () => {
    const path = file('exe-runpath');
    const content = Buffer.from(readFileSync(path));
    let at = dynamicOffset(path);
    while (content.readBigUInt64LE(at) !== 0n) at += 16;
    // ld leaves spare DT_NULL entries at the end of .dynamic; make the first spare one a DT_NEEDED.
    content.writeBigUInt64LE(1n, at + 16);
    content.writeBigUInt64LE(1n, at + 24);
    assert.deepEqual(readElf(content, 'bin/x').needed, ['libkt.so.1', 'libc.so.6']);
  });

  for (const name of ['exe-modern', 'libuse32.so']) {
    it(`parses or rejects every truncation of ${name}`, () => {
      const content = readFileSync(file(name));
      const counts = { parsed: 0, rejected: 0 };
      for (let length = 0; length <= content.length; length += length < 200 ? 1 : 97) {
        counts[outcome(content.subarray(0, length), `${name} truncated to ${length} bytes`)]++;
      }
      assert.equal(outcome(content, name), 'parsed');
      assert.ok(counts.rejected > 200, JSON.stringify(counts));
    });

    it(`parses or rejects randomly corrupted copies of ${name}`, () => {
      const content = readFileSync(file(name));
      const dynamic = dynamicOffset(file(name));
      const counts = { parsed: 0, rejected: 0 };
      for (let seed = 1; seed <= 3000; seed++) {
        const copy = corruptCopy(content, dynamic, seed);
        counts[outcome(copy, `${name} corrupted with seed ${seed}`)]++;
      }
      assert.ok(counts.parsed > 0 && counts.rejected > 0, JSON.stringify(counts));
    });
  }
});
