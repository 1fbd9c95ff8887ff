/**
 * Binary relocation against real compiled code: a C program whose paths are
 * compiled in with the placeholder, relocated with the table the packer
 * writes, then run. It covers the two ways a moved byte breaks a program:
 * a string whose length is fixed at compile time (sizeof, as nginx does for
 * its prefix) and a string the linker merged into another string's tail.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PlaceholderScanner } from '../src/relocate/index.js';
import { applyRelocation } from '../src/relocate/applyRelocation.js';

const work = mkdtempSync(join(tmpdir(), 'kiln-reloc-'));
after(() => rmSync(work, { recursive: true, force: true }));

const PH = `/tmp/kiln-reloc-placeholder${'_x'.repeat(40)}`;
const PROGRAM = `
#include <stdio.h>
#include <string.h>
#define PREFIX "${PH}"
const char prefix[] = PREFIX "/share/app/";
/* Read through a volatile pointer so that gcc keeps the string in .rodata instead of inlining the copy as immediate stores. */
const char *volatile prefix_at = prefix;
const char *conf = PREFIX "/etc/app.conf";
const char *volatile name = "app.conf";
static void show(const char *label, const char *path) {
  char line[128] = "";
  FILE *file = fopen(path, "r");
  if (file == NULL) { printf("%s=cannot open %s\\n", label, path); return; }
  if (fgets(line, sizeof line, file) == NULL) line[0] = 0;
  fclose(file);
  printf("%s=%s", label, line);
}
int main(void) {
  char path[4096];
  memcpy(path, prefix_at, sizeof(prefix) - 1);
  strcpy(path + sizeof(prefix) - 1, "data.txt");
  show("data", path);
  show("conf", conf);
  printf("name=%s\\n", name);
  return 0;
}
`;

describe('binary relocation of a compiled program', () => {
  const source = join(work, 'app.c');
  const binary = join(work, 'app');
  writeFileSync(source, PROGRAM);
  execFileSync('gcc', ['-O2', '-o', binary, source]);
  const built = readFileSync(binary);
  const scanner = new PlaceholderScanner(PH);
  scanner.push(built);
  const row = scanner.result();

  it('finds the placeholder in the compiled strings', () => {
    assert.ok(row !== undefined && row.kind === 'binary');
    assert.ok(row.offsets.length >= 2, `expected at least 2 occurrences, found ${row.offsets.length}`);
  });

  for (const [label, prefix] of [
    ['a short prefix', join(work, 'p')],
    ['a prefix with a space', join(work, 'my prefix')],
    ['a prefix as long as the placeholder', join(work, 'q'.repeat(PH.length - work.length - 1))],
  ] as const) {
    it(`runs from ${label}`, () => {
      assert.ok(prefix.length <= PH.length);
      mkdirSync(join(prefix, 'share', 'app'), { recursive: true });
      mkdirSync(join(prefix, 'etc'), { recursive: true });
      mkdirSync(join(prefix, 'bin'), { recursive: true });
      writeFileSync(join(prefix, 'share', 'app', 'data.txt'), 'from share\n');
      writeFileSync(join(prefix, 'etc', 'app.conf'), 'from etc\n');
      const relocated = applyRelocation(built, { path: 'bin/app', ...row! }, PH, prefix, 'bin/app');
      assert.equal(relocated.length, built.length);
      const installed = join(prefix, 'bin', 'app');
      writeFileSync(installed, relocated);
      chmodSync(installed, 0o755);
      const output = execFileSync(installed, { encoding: 'utf8' });
      assert.equal(output, 'data=from share\nconf=from etc\nname=app.conf\n');
      assert.equal(relocated.indexOf(Buffer.from(PH)), -1);
    });
  }
});
