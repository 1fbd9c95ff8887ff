/**
 * What the farm's coordinator checks of a worker's upload (src/farm/checkUpload.ts),
 * one hostile package per check: crafted with the writer's own pieces, and
 * ELF files from the real compiler.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isKilnError } from '../src/errors/index.js';
import { checkUpload } from '../src/farm/checkUpload.js';
import type { PackageMetadata } from '../src/format/index.js';
import { computeVariantId } from '../src/format/index.js';
import { generateKeyPair } from '../src/sign/index.js';
import type { CraftEntry } from './helpers/craft.js';
import { dirEntry, fileEntry, writeCrafted } from './helpers/craft.js';
import { tempDir } from './helpers/kiln.js';

const STEP = { package: 'test/crafted', version: '1.0', arch: 'x86_64', libc: 'glibc', cpuLevel: 'x86-64' };
const PLACEHOLDER = '/tmp/kiln-build-placeholder-000000000000';

function compiled(dir: string, name: string, flags: string[]): Buffer {
  const source = join(dir, `${name}.c`);
  execFileSync('sh', ['-c', `echo 'int main(void){return 0;}' > '${source}'`]);
  execFileSync('gcc', ['-o', join(dir, name), source, ...flags]);
  return readFileSync(join(dir, name));
}

const withPlaceholder = (text: string) => Buffer.from(`prefix=${PLACEHOLDER}\n${text}`);

test('an upload is accepted only as the step it was asked for, unsigned, with sound ELF files and relocation table', async (t) => {
  const dir = await tempDir(t);
  let n = 0;
  const check = async (
    entries: CraftEntry[],
    mutate?: (meta: PackageMetadata) => void,
    extra: { key?: boolean } = {},
  ) =>
    checkUpload(
      await writeCrafted(join(dir, `upload-${n++}.kpkg`), {
        entries: [
          ...[...new Set(entries.map((entry) => entry.manifest?.path.split('/')[0] ?? ''))]
            .filter((top) => top !== '')
            .map((top) => dirEntry(top)),
          ...entries,
        ],
        mutate: (meta) => {
          mutate?.(meta);
          meta.variant = computeVariantId(meta.options, meta.target);
        },
        ...(extra.key === true ? { key: generateKeyPair() } : {}),
      }),
      STEP,
      {},
    );
  const refused = (pattern: RegExp) => (error: unknown) =>
    isKilnError(error) && error.code === 'E_FARM_UPLOAD' && pattern.test(error.message);
  const relocated = (meta: PackageMetadata, offsets: number[]) => {
    meta.relocation = { placeholder: PLACEHOLDER, files: [{ path: 'share/config', kind: 'text', offsets }] };
  };
  const good = (await check([fileEntry('share/config', withPlaceholder('x'))], (meta) => relocated(meta, [7]))).name;
  assert.equal(good, 'crafted', 'a sound upload passes');
  const elf = compiled(dir, 'plain', []);
  await check([fileEntry('bin/plain', elf, 0o755)]);

  const cases: [string, CraftEntry[], ((meta: PackageMetadata) => void) | undefined, RegExp, { key?: boolean }?][] = [
    [
      'another package',
      [],
      (meta) => (meta.name = 'impostor'),
      /the package is test\/impostor, the step asked for test\/crafted/,
    ],
    ['another version', [], (meta) => (meta.revision = 1), /the version is 1\.0-r1, the step asked for 1\.0/],
    [
      'another CPU level',
      [],
      (meta) => (meta.target = { ...meta.target, cpu: 'x86-64-v3' }),
      /the CPU level is x86-64-v3/,
    ],
    [
      'other options',
      [],
      (meta) => (meta.options = { ssl: true }),
      /the options are \[\+ssl\], the step asked for \[\]/,
    ],
    ['a signed package', [], undefined, /it is signed/, { key: true }],
    [
      'an ELF file for another machine',
      [fileEntry('bin/arm', Buffer.concat([elf.subarray(0, 18), Buffer.from([183, 0]), elf.subarray(20)]), 0o755)],
      undefined,
      /bin\/arm is an ELF file for machine 183, not x86_64/,
    ],
    [
      'a run path outside the package',
      [fileEntry('bin/rpath', compiled(dir, 'rpath', ['-Wl,-rpath,/opt/evil/lib']), 0o755)],
      undefined,
      /bin\/rpath has the run path entry \/opt\/evil\/lib, not relative to \$ORIGIN/,
    ],
    [
      'a placeholder the table does not list',
      [fileEntry('share/config', withPlaceholder('x')), fileEntry('share/other', withPlaceholder('y'))],
      (meta) => relocated(meta, [7]),
      /share\/other holds the placeholder at 1 place\(s\), and the relocation table lists 0/,
    ],
    [
      'a table offset where the placeholder is not',
      [fileEntry('share/config', Buffer.concat([withPlaceholder('x'), Buffer.alloc(64, 0x61)]))],
      (meta) => relocated(meta, [7, 60]),
      /share\/config holds the placeholder at 1 place\(s\), and the relocation table lists 2/,
    ],
    [
      'a file that does not match its manifest',
      [{ ...fileEntry('share/x', 'one'), content: Buffer.from('two') }],
      undefined,
      /refused the upload/,
    ],
  ];
  for (const [what, entries, mutate, pattern, extra] of cases)
    await assert.rejects(check(entries, mutate, extra), refused(pattern), what);
  await assert.rejects(
    checkUpload(join(dir, 'missing.kpkg'), STEP, {}),
    refused(/no such file|ENOENT|cannot/),
    'a missing upload',
  );
});
