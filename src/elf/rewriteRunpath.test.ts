import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { isKilnError } from '../errors/index.js';
import { corruptCopy } from './corruptCopy.js';
import { readElf } from './readElf.js';
import { rewriteRunpath } from './rewriteRunpath.js';

// readelf's messages are parsed below, so they must not be translated.
const TOOL_ENV = { ...process.env, LC_ALL: 'C' };
// Programs run without LD_LIBRARY_PATH or LD_PRELOAD, so only their run path can find their libraries.
const RUN_ENV = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('LD_')));

const OLD = '/some/long/absolute/dir/lib';
const NEW = '$ORIGIN/../lib';

let dir = '';
let counter = 0;

function gcc(...args: string[]): void {
  execFileSync('gcc', args, { cwd: dir, env: TOOL_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
}

function fixture(name: string): string {
  return join(dir, name);
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-elf-rewrite-'));
  writeFileSync(fixture('kt.c'), 'int kt_answer(void) { return 42; }\nint lib(void) { return 0; }\n');
  writeFileSync(fixture('kt.map'), 'KT_1.0 { global: kt_answer; lib; local: *; };\n');
  writeFileSync(
    fixture('main.c'),
    '#include <stdio.h>\nint kt_answer(void);\nint main(void) { printf("%d\\n", kt_answer()); return 0; }\n',
  );
  // Calls a function named "lib": GNU ld stores that name as the tail of a run path ending in "lib".
  writeFileSync(
    fixture('tail.c'),
    '#include <stdio.h>\nint kt_answer(void);\nint lib(void);\nint main(void) { printf("%d\\n", kt_answer() + lib()); return 0; }\n',
  );
  writeFileSync(fixture('v32.c'), 'int v32(void) { return 32; }\n');
  writeFileSync(fixture('v32.map'), 'V32_1.0 { global: v32; local: *; };\n');
  writeFileSync(fixture('use32.c'), 'int v32(void);\nint use32(void) { return v32() + 1; }\n');

  gcc('-shared', '-fPIC', '-Wl,-soname,libkt.so.1', '-Wl,--version-script,kt.map', '-o', 'libkt.so.1', 'kt.c');
  gcc('-o', 'exe-rpath', 'main.c', '-L.', '-l:libkt.so.1', `-Wl,-rpath,${OLD}`, '-Wl,--disable-new-dtags');
  gcc('-o', 'exe-runpath', 'main.c', '-L.', '-l:libkt.so.1', `-Wl,-rpath,${OLD}`, '-Wl,--enable-new-dtags');
  gcc('-o', 'exe-tail', 'tail.c', '-L.', '-l:libkt.so.1', `-Wl,-rpath,${OLD}`, '-Wl,--enable-new-dtags');
  gcc('-o', 'exe-tail-slash', 'tail.c', '-L.', '-l:libkt.so.1', `-Wl,-rpath,${OLD}/`, '-Wl,--enable-new-dtags');
  gcc('-c', '-o', 'kt.o', 'kt.c');
  // 32-bit fixtures link without libc (-nostdlib), which needs no 32-bit libraries installed.
  gcc(
    '-m32',
    '-shared',
    '-nostdlib',
    '-fPIC',
    '-Wl,-soname,libv32.so.1',
    '-Wl,--version-script,v32.map',
    '-Wl,-rpath,/opt/v32/long/lib',
    '-Wl,--enable-new-dtags',
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
});

after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

function readelf(path: string, ...flags: string[]): string {
  return execFileSync('readelf', ['-W', ...flags, path], { encoding: 'utf8', env: TOOL_ENV, maxBuffer: 256 << 20 });
}

/** The run-path lines of `readelf -d`, such as "(RUNPATH) Library runpath: [$ORIGIN/../lib]". */
function runPathLines(path: string): string[] {
  return readelf(path, '-d')
    .split('\n')
    .filter((line) => /\((RPATH|RUNPATH)\)/.test(line))
    .map((line) => line.replace(/^\s*0x[0-9a-f]+\s+/, '').replace(/\s+/g, ' '));
}

/** Writes `content` to a new file in the temporary directory and returns its path. */
function save(content: Buffer, name = `rewritten-${++counter}`): string {
  const path = fixture(name);
  writeFileSync(path, content);
  return path;
}

/** Everything readelf shows of the dynamic linking data but the run path: it must not change. */
function assertOnlyRunPathChanged(original: string, rewritten: string): void {
  const view = (path: string): string[] =>
    readelf(path, '-d', '-V', '--dyn-syms')
      .split('\n')
      .filter((line) => !/\((RPATH|RUNPATH)\)/.test(line));
  assert.deepEqual(view(rewritten), view(original));
}

/** Installs `exe` as <prefix>/bin/kt next to <prefix>/lib/libkt.so.1 and runs it. */
function installAndRun(exe: Buffer): string {
  const prefix = fixture(`prefix-${++counter}`);
  mkdirSync(join(prefix, 'bin'), { recursive: true });
  mkdirSync(join(prefix, 'lib'));
  writeFileSync(join(prefix, 'bin', 'kt'), exe);
  chmodSync(join(prefix, 'bin', 'kt'), 0o755);
  copyFileSync(fixture('libkt.so.1'), join(prefix, 'lib', 'libkt.so.1'));
  return execFileSync(join(prefix, 'bin', 'kt'), [], {
    encoding: 'utf8',
    env: RUN_ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function assertElfError(run: () => unknown, fragments: RegExp[], hint?: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(isKilnError(error, 'E_ELF'), `expected E_ELF, got ${String(error)}`);
    for (const fragment of fragments) assert.match(error.message, fragment);
    if (hint !== undefined) assert.match(error.hint ?? '', hint);
    return true;
  });
}

describe('rewriteRunpath: programs compiled by gcc', () => {
  it('finds the library only through the rewritten run path, and the program runs', () => {
    const original = readFileSync(fixture('exe-runpath'));
    assert.throws(() => installAndRun(original), /libkt\.so\.1/, 'the original run path should not find the library');
    const rewritten = rewriteRunpath(original, [NEW], 'runpath', 'bin/kt');
    assert.equal(installAndRun(rewritten), '42\n');
    assert.equal(rewritten.length, original.length);
    const path = save(rewritten);
    assert.deepEqual(runPathLines(path), [`(RUNPATH) Library runpath: [${NEW}]`]);
    assertOnlyRunPathChanged(fixture('exe-runpath'), path);
    assert.deepEqual(readElf(rewritten, 'bin/kt').runpath, [NEW]);
  });

  it('leaves the input buffer as it was', () => {
    const original = readFileSync(fixture('exe-runpath'));
    const copy = Buffer.from(original);
    rewriteRunpath(original, [NEW], 'runpath', 'bin/kt');
    assert.ok(original.equals(copy));
  });

  it('changes only the run-path string, NUL-padded, and the tag', () => {
    const original = readFileSync(fixture('exe-runpath'));
    const rewritten = rewriteRunpath(original, [NEW], 'rpath', 'bin/kt');
    const start = original.indexOf(`\0${OLD}\0`) + 1;
    assert.ok(start > 0);
    assert.equal(
      rewritten.toString('latin1', start, start + OLD.length + 1),
      `${NEW}${'\0'.repeat(OLD.length - NEW.length + 1)}`,
    );
    const changed = [...original.keys()].filter(
      (offset) => original[offset] !== rewritten[offset] && (offset < start || offset >= start + OLD.length),
    );
    assert.equal(changed.length, 1, 'only the low byte of d_tag (29 to 15) should differ outside the string');
  });

  for (const [from, to, label] of [
    ['exe-rpath', 'rpath', '(RPATH) Library rpath'],
    ['exe-rpath', 'runpath', '(RUNPATH) Library runpath'],
    ['exe-runpath', 'rpath', '(RPATH) Library rpath'],
  ] as const) {
    it(`rewrites ${from} with tag ${to}, and the program runs`, () => {
      const rewritten = rewriteRunpath(readFileSync(fixture(from)), [NEW, '/nonexistent'], to, 'bin/kt');
      const path = save(rewritten);
      assert.deepEqual(runPathLines(path), [`${label}: [${NEW}:/nonexistent]`]);
      assertOnlyRunPathChanged(fixture(from), path);
      assert.equal(installAndRun(rewritten), '42\n');
      assert.deepEqual(readElf(rewritten, 'bin/kt')[to], [NEW, '/nonexistent']);
    });
  }

  it('accepts a run path exactly as long as the old one, and an empty one', () => {
    const same = `/${'s'.repeat(OLD.length - 1)}`;
    assert.deepEqual(
      readElf(rewriteRunpath(readFileSync(fixture('exe-runpath')), [same], 'runpath', 'bin/kt'), 'bin/kt').runpath,
      [same],
    );
    const empty = rewriteRunpath(readFileSync(fixture('exe-runpath')), [], 'runpath', 'bin/kt');
    assert.deepEqual(runPathLines(save(empty)), ['(RUNPATH) Library runpath: []']);
  });

  it('rejects a longer run path with E_ELF naming both lengths', () => {
    const longer = `${OLD}x`;
    assertElfError(
      () => rewriteRunpath(readFileSync(fixture('exe-runpath')), [longer], 'runpath', 'bin/kt'),
      [
        /^cannot rewrite the run path of bin\/kt to "\/some\/long\/absolute\/dir\/libx": /,
        new RegExp(`${longer.length} bytes long`),
        new RegExp(`the ${OLD.length} bytes`),
      ],
      new RegExp(`at least ${longer.length} bytes`),
    );
  });

  it('rejects a file without a run path, and an object file, with E_ELF and a hint', () => {
    for (const name of ['libkt.so.1', 'kt.o']) {
      assertElfError(
        () => rewriteRunpath(readFileSync(fixture(name)), [NEW], 'runpath', name),
        [/it has no DT_RPATH or DT_RUNPATH entry/],
        /-Wl,-rpath,/,
      );
    }
  });

  it('rejects an entry holding ":"', () => {
    assertElfError(
      () => rewriteRunpath(readFileSync(fixture('exe-runpath')), ['/a:/b'], 'runpath', 'bin/kt'),
      [/the entry "\/a:\/b" holds a ":"/],
    );
  });

  it('refuses when ld stored a symbol name in the tail of the run path, and the hinted trailing "/" avoids it', () => {
    assertElfError(
      () => rewriteRunpath(readFileSync(fixture('exe-tail')), [NEW], 'runpath', 'bin/kt'),
      [/the name of dynamic symbol \d+ \(string index \d+\) shares bytes with the run path/],
      /ends in "\/"/,
    );
    const rewritten = rewriteRunpath(readFileSync(fixture('exe-tail-slash')), [NEW], 'runpath', 'bin/kt');
    assertOnlyRunPathChanged(fixture('exe-tail-slash'), save(rewritten));
    assert.equal(installAndRun(rewritten), '42\n');
  });
});

describe('rewriteRunpath: 32-bit shared objects with version definitions and needs', () => {
  for (const [name, to] of [
    ['libv32.so.1', 'rpath'],
    ['libuse32.so', 'runpath'],
  ] as const) {
    it(`rewrites ${name} to ${to}`, () => {
      const rewritten = rewriteRunpath(readFileSync(fixture(name)), ['$ORIGIN'], to, name);
      const path = save(rewritten);
      assert.deepEqual(runPathLines(path), [
        to === 'rpath' ? '(RPATH) Library rpath: [$ORIGIN]' : '(RUNPATH) Library runpath: [$ORIGIN]',
      ]);
      assertOnlyRunPathChanged(fixture(name), path);
    });
  }
});

describe('rewriteRunpath: system files with a run path', () => {
  for (const candidate of ['/usr/bin/expr', '/usr/bin/apropos', '/usr/bin/busctl']) {
    it(`rewrites a copy of ${candidate}`, (t) => {
      if (!existsSync(candidate)) {
        t.skip(`${candidate} is not installed here`);
        return;
      }
      const original = realpathSync(candidate);
      const content = readFileSync(original);
      const before = readElf(content, original);
      if (before.runpath === undefined && before.rpath === undefined) {
        t.skip(`${original} has no run path here`);
        return;
      }
      const path = save(rewriteRunpath(content, ['/x'], 'runpath', original));
      assert.deepEqual(runPathLines(path), ['(RUNPATH) Library runpath: [/x]']);
      assertOnlyRunPathChanged(original, path);
    });
  }
});

const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_STRSZ = 10;
const DT_RPATH = 15;
const DT_RUNPATH = 29;
const BASE = 0x10000;

/**
 * A minimal shared object, for the word sizes and byte orders no installed
 * linker makes: an ELF header, a PT_LOAD segment mapping the whole file at
 * BASE and a PT_DYNAMIC one, then the string table (`strings` from index 1)
 * and the dynamic section, to which DT_STRTAB, DT_STRSZ and DT_NULL are added.
 */
function miniElf(
  bits: 32 | 64,
  little: boolean,
  strings: string[],
  dynamic: Array<[tag: number, value: number]>,
): Buffer {
  const w = bits / 8;
  const headerSize = 40 + 3 * w;
  const phentsize = 8 + 6 * w;
  const strtab = Buffer.from(`\0${strings.map((string) => `${string}\0`).join('')}`);
  const strtabOffset = headerSize + 2 * phentsize;
  const dynamicOffset = Math.ceil((strtabOffset + strtab.length) / w) * w;
  const entries = [...dynamic, [DT_STRTAB, BASE + strtabOffset], [DT_STRSZ, strtab.length], [0, 0]] as const;
  const out = Buffer.alloc(dynamicOffset + entries.length * 2 * w);
  const put = (at: number, size: number, value: number): void => {
    if (size === 2) out[little ? 'writeUInt16LE' : 'writeUInt16BE'](value, at);
    else if (size === 4) out[little ? 'writeUInt32LE' : 'writeUInt32BE'](value, at);
    else out[little ? 'writeBigUInt64LE' : 'writeBigUInt64BE'](BigInt(value), at);
  };
  out.write('\u007fELF', 0, 'latin1');
  out[4] = bits === 64 ? 2 : 1;
  out[5] = little ? 1 : 2;
  out[6] = 1;
  put(16, 2, 3); // ET_DYN
  put(20, 4, 1);
  put(24 + w, w, headerSize);
  put(28 + 3 * w, 2, headerSize);
  put(30 + 3 * w, 2, phentsize);
  put(32 + 3 * w, 2, 2);
  for (const [index, [type, offset, size]] of [
    [1, 0, out.length],
    [2, dynamicOffset, out.length - dynamicOffset],
  ].entries()) {
    const at = headerSize + index * phentsize;
    put(at, 4, type ?? 0);
    put(at + w, w, offset ?? 0);
    put(at + 2 * w, w, BASE + (offset ?? 0));
    put(at + 4 * w, w, size ?? 0);
    put(at + 5 * w, w, size ?? 0);
  }
  strtab.copy(out, strtabOffset);
  entries.forEach(([tag, value], index) => {
    put(dynamicOffset + index * 2 * w, w, tag);
    put(dynamicOffset + index * 2 * w + w, w, value);
  });
  return out;
}

describe('readElf and rewriteRunpath: hand-built 32- and 64-bit, little- and big-endian files', () => {
  for (const bits of [32, 64] as const) {
    for (const little of [true, false]) {
      const label = `${bits}-bit ${little ? 'little' : 'big'}-endian`;
      it(`reads and rewrites a ${label} file, as readelf confirms`, () => {
        // Strings from index 1: "/opt/kiln/long/lib" (1), "libz.so.1" (20).
        const content = miniElf(
          bits,
          little,
          ['/opt/kiln/long/lib', 'libz.so.1'],
          [
            [DT_NEEDED, 20],
            [DT_RUNPATH, 1],
          ],
        );
        const original = save(content);
        assert.match(readelf(original, '-h'), new RegExp(`ELF${bits}[\\s\\S]*${little ? 'little' : 'big'} endian`));
        assert.deepEqual(runPathLines(original), ['(RUNPATH) Library runpath: [/opt/kiln/long/lib]']);
        const info = readElf(content, label);
        assert.deepEqual(
          [info.bits, info.endian, info.needed, info.runpath],
          [bits, little ? 'little' : 'big', ['libz.so.1'], ['/opt/kiln/long/lib']],
        );
        const path = save(rewriteRunpath(content, [NEW], 'rpath', label));
        assert.deepEqual(runPathLines(path), [`(RPATH) Library rpath: [${NEW}]`]);
        assertOnlyRunPathChanged(original, path);
      });

      it(`refuses a ${label} file with both DT_RPATH and DT_RUNPATH`, () => {
        const content = miniElf(
          bits,
          little,
          ['/opt/kiln/long/lib'],
          [
            [DT_RPATH, 1],
            [DT_RUNPATH, 1],
          ],
        );
        assertElfError(
          () => rewriteRunpath(content, [NEW], 'runpath', label),
          [/it has 2 run-path entries \(DT_RPATH and DT_RUNPATH\)/],
          /--enable-new-dtags/,
        );
      });

      it(`refuses a ${label} file whose DT_NEEDED string is the tail of the run path`, () => {
        const content = miniElf(
          bits,
          little,
          ['/opt/kiln/long/lib'],
          [
            [DT_RUNPATH, 1],
            [DT_NEEDED, 1 + '/opt/kiln/long/'.length],
          ],
        );
        assert.deepEqual(readElf(content, label).needed, ['lib']);
        assertElfError(
          () => rewriteRunpath(content, [NEW], 'runpath', label),
          [/the dynamic entry with tag 0x1 \(string index 16\) shares bytes with the run path/],
        );
      });
    }
  }
});

describe('readElf: names pointing many times into one long string', () => {
  it('stops with E_ELF instead of decoding the string over and over', () => {
    const long = 'a'.repeat(200_000);
    const content = miniElf(
      64,
      true,
      [long],
      Array.from({ length: 20_000 }, (_, index): [number, number] => [DT_NEEDED, 1 + index]),
    );
    assertElfError(
      () => readElf(content, 'lib/libx.so'),
      [
        /^cannot read ELF file lib\/libx\.so: its string references add up to far more bytes than the dynamic string table holds$/,
      ],
    );
  });
});

/** 'rewritten' or 'rejected' (E_ELF); any other exception fails the test, naming the case. */
function outcome(content: Buffer, label: string): 'rewritten' | 'rejected' {
  try {
    rewriteRunpath(content, [NEW], 'runpath', 'hostile');
    return 'rewritten';
  } catch (error) {
    if (isKilnError(error, 'E_ELF')) return 'rejected';
    assert.fail(
      `${label}: expected a result or E_ELF, got ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
  }
}

describe('rewriteRunpath: hostile input', { timeout: 120_000 }, () => {
  it('rewrites or rejects every truncation', () => {
    const content = readFileSync(fixture('exe-runpath'));
    const counts = { rewritten: 0, rejected: 0 };
    for (let length = 0; length <= content.length; length += length < 200 ? 1 : 97) {
      counts[outcome(content.subarray(0, length), `truncated to ${length} bytes`)]++;
    }
    assert.equal(outcome(content, 'the whole file'), 'rewritten');
    assert.ok(counts.rejected > 200, JSON.stringify(counts));
  });

  it('rewrites or rejects randomly corrupted copies', () => {
    const content = readFileSync(fixture('exe-runpath'));
    const dynamic = Number.parseInt(
      /Dynamic section at offset 0x([0-9a-f]+)/.exec(readelf(fixture('exe-runpath'), '-d'))?.[1] ?? 'NaN',
      16,
    );
    assert.ok(Number.isInteger(dynamic));
    const counts = { rewritten: 0, rejected: 0 };
    for (let seed = 1; seed <= 3000; seed++) {
      const copy = corruptCopy(content, dynamic, seed);
      counts[outcome(copy, `corrupted with seed ${seed}`)]++;
    }
    assert.ok(counts.rewritten > 0 && counts.rejected > 0, JSON.stringify(counts));
  });
});
