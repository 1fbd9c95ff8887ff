import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SHEBANG_LIMIT, fixLongShebang } from './fixLongShebang.js';

const work = mkdtempSync(join(tmpdir(), 'kiln-shebang-'));
after(() => rmSync(work, { recursive: true, force: true }));
// A prefix with a space whose bin/ holds the real interpreters, reached through a long path.
const prefix = join(work, 'a prefix', 'x'.repeat(SHEBANG_LIMIT));
mkdirSync(join(prefix, 'bin'), { recursive: true });
for (const tool of ['python3', 'perl', 'bash', 'sh'])
  symlinkSync(execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), join(prefix, 'bin', tool));

function runScript(name: string, text: string, args: string[] = []): string {
  const fixed = fixLongShebang(Buffer.from(text), prefix);
  assert.equal(fixed.unfixed, undefined);
  assert.ok(fixed.content.indexOf(0x0a) <= SHEBANG_LIMIT, 'the new first line is short');
  const path = join(work, name);
  writeFileSync(path, fixed.content);
  chmodSync(path, 0o755);
  return execFileSync(path, args, { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
}

describe('fixLongShebang', () => {
  it('leaves short lines, non-scripts and unknown interpreters alone', () => {
    const short = Buffer.from('#!/bin/sh\necho hi\n');
    assert.equal(fixLongShebang(short, prefix).content, short);
    const binary = Buffer.from('\u007fELF...');
    assert.equal(fixLongShebang(binary, prefix).content, binary);
    const lua = Buffer.from(`#!${prefix}/bin/lua\nprint(1)\n`);
    assert.deepEqual(fixLongShebang(lua, prefix), { content: lua, unfixed: `${prefix}/bin/lua` });
  });

  it('runs a Python script through /bin/sh, with its arguments and its docstring-free body', () => {
    const out = runScript(
      'py',
      `#!${prefix}/bin/python3\nimport sys\nprint("python", sys.argv[1:], sys.executable.endswith("/bin/python3"))\n`,
      ['a b', 'c'],
    );
    assert.equal(out, "python ['a b', 'c'] True\n");
  });

  it('fixes a short line whose interpreter is in a prefix with a blank', () => {
    const spaced = join(work, 'a prefix');
    mkdirSync(join(spaced, 'bin'), { recursive: true });
    symlinkSync(join(prefix, 'bin', 'python3'), join(spaced, 'bin', 'python3'));
    const fixed = fixLongShebang(Buffer.from(`#!${spaced}/bin/python3 -s\nprint("ok")\n`), spaced);
    assert.match(fixed.content.toString(), new RegExp(`^#!/bin/sh\\n'''exec' '${spaced}/bin/python3' '-s' "\\$0"`));
    const unrelated = Buffer.from('#!/usr/bin/env python3\n');
    assert.equal(fixLongShebang(unrelated, spaced).content, unrelated);
  });

  it('with always, makes a launcher of any short line into the prefix, and of no other', () => {
    const short = Buffer.from('#!/p/bin/python3\nprint(1)\n');
    assert.equal(fixLongShebang(short, '/p').content, short, 'short and without a blank: left alone by default');
    assert.match(
      fixLongShebang(short, '/p', true).content.toString(),
      /^#!\/bin\/sh\n'''exec' '\/p\/bin\/python3' "\$0" "\$@"\n/,
    );
    const outside = Buffer.from('#!/usr/bin/python3\n');
    assert.equal(fixLongShebang(outside, '/p', true).content, outside);
  });

  it('runs a Perl script', () => {
    assert.equal(runScript('pl', `#!${prefix}/bin/perl -w\nprint "perl @ARGV\\n";\n`, ['x', 'y']), 'perl x y\n');
  });

  it('runs a bash script once, with bash, and hides the variable it used', () => {
    const out = runScript(
      'bash',
      `#!${prefix}/bin/bash\necho "bash=\${BASH_VERSION:+yes} args=$# first=$1 reexec=\${KILN_SHEBANG_REEXEC-unset}"\n`,
      ['one two', '3'],
    );
    assert.equal(out, 'bash=yes args=2 first=one two reexec=unset\n');
  });
});
