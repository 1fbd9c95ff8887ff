/**
 * What `npm run fuzz` feeds: every reader of input Kiln does not control, each
 * as a function of the raw bytes, with seeds made by Kiln's own writers (a
 * valid document of each kind) or taken from the source tree (recipes, solver
 * cases, a real ELF file). A reader may refuse an input only with a KilnError;
 * any other exception, or a hang, is a finding (run.ts).
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { advisoryDocument, checkAdvisory, encodeAdvisories, importPkgsrc, parseAdvisories } from '../src/advisory/index.js';
import { parsePrefixConfig } from '../src/config/prefixConfig.js';
import { readElf } from '../src/elf/readElf.js';
import { parseRecipeText } from '../src/build/recipe.js';
import { openPackage } from '../src/format/openPackage.js';
import { pack } from '../src/format/pack.js';
import { parsePackInput } from '../src/format/packInput.js';
import { decodeFileList } from '../src/repo/fileList.js';
import type { IndexEntry, RepositoryIndex } from '../src/repo/indexFormat.js';
import { parseIndex, serializeIndex } from '../src/repo/indexFormat.js';
import {
  checkNameTable,
  encodeNameTable,
  encodeShard,
  nameRows,
  parseNameTable,
  parseRoot,
  parseShard,
  serializeRoot,
} from '../src/repo/indexV2.js';
import { isKilnError } from '../src/errors/index.js';
import { requestPath } from '../src/serve/requestPath.js';
import { formatPublicKey, formatSignature, generateKeyPair, parsePublicKey, parseSignature, signData } from '../src/sign/index.js';
import { parseProblem } from '../src/solver/problem.js';
import { sha256 } from '../src/util/hash.js';
import { compressOnce } from '../src/util/zstd.js';
import { tryParseRange, tryParseVersion } from '../src/version/index.js';

export interface Target {
  /** Runs one input; may throw only KilnError. */
  run(data: Buffer): unknown;
  /** Valid inputs to start from. */
  seeds(work: string, root: string): Promise<Buffer[]>;
  /** Tokens worth inserting (a format's keywords and delimiters). */
  dictionary: string[];
}

const JSON_TOKENS = ['{', '}', '[', ']', '"', ':', ',', 'null', 'true', 'false', '-1', '1e999', '0', '"\\u0000"', '""', '9007199254740993'];
const text = (data: Buffer) => data.toString('utf8');

function sampleEntry(name: string, version: string): IndexEntry {
  return {
    name,
    category: 'app-misc',
    version,
    revision: 0,
    variant: '654accc5733a',
    options: {},
    target: { arch: 'x86_64', cpu: 'x86-64', libc: 'glibc', libcVersion: '2.17' },
    summary: 'a sample',
    homepage: 'https://example.org/',
    license: 'MIT',
    depends: [{ name: 'zlib', range: '>=1.2' }],
    provides: { sonames: ['libx.so.1'] },
    needs: { sonames: ['libz.so.1'], system: [] },
    installedSize: 10,
    path: `packages/app-misc/${name}/${name}-${version}-654accc5733a.kpkg`,
    size: 100,
    sha256: sha256(Buffer.from(name)) as IndexEntry['sha256'],
  };
}

function sampleIndex(): RepositoryIndex {
  return {
    format: 'kiln-index',
    formatVersion: 1,
    name: 'main',
    serial: 2,
    created: '2026-12-01T00:00:00Z',
    expires: '2027-01-01T00:00:00Z',
    keys: ['6B7BC42F2B3A01E0'],
    packages: [sampleEntry('alpha', '1.0'), sampleEntry('beta', '2.1_rc1')],
  };
}

function shippedAdvisories(root: string) {
  const dir = join(root, 'advisories');
  return readdirSync(dir)
    .filter((file) => file.startsWith('CVE-'))
    .map((file) => checkAdvisory(JSON.parse(readFileSync(join(dir, file), 'utf8')), file));
}

export const TARGETS: Record<string, Target> = {
  version: {
    run: (data) => {
      const value = text(data);
      tryParseVersion(value);
      tryParseRange(value);
    },
    seeds: async () => ['1.2.3', '1.2.3_rc1-r4', '>=1.2 <2', '=1.0', '1.0 || >=2'].map((s) => Buffer.from(s)),
    dictionary: ['_alpha', '_beta', '_pre', '_rc', '_p', '-r', '>=', '<', '=', '||', '*', '.'],
  },
  signature: {
    run: (data) => parseSignature(text(data), 'fuzz'),
    seeds: async () => {
      const key = generateKeyPair();
      return [Buffer.from(formatSignature(signData(Buffer.from('data'), key, { trustedComment: 'kiln index main serial 2' })))];
    },
    dictionary: ['untrusted comment: ', 'trusted comment: ', '\n', 'RW', 'ED', 'Ed', '='],
  },
  publicKey: {
    run: (data) => parsePublicKey(text(data), 'fuzz'),
    seeds: async () => [Buffer.from(formatPublicKey(generateKeyPair()))],
    dictionary: ['untrusted comment: ', '\n', 'RW', 'Ed', '='],
  },
  index: {
    run: (data) => parseIndex(data, 'fuzz'),
    seeds: async () => [serializeIndex(sampleIndex())],
    dictionary: [...JSON_TOKENS, '"packages"', '"depends"', '"options"', '"sha256"', '"../x"', '"/etc/passwd"'],
  },
  root: {
    run: (data) => parseRoot(data, 'fuzz'),
    seeds: async () => {
      const index = sampleIndex();
      const shards = new Map(
        index.packages.map((entry) => {
          const bytes = encodeShard(entry.name, [entry]);
          return [entry.name, { pin: { sha256: sha256(bytes) as IndexEntry['sha256'], size: bytes.length }, entries: [entry] }];
        }),
      );
      const names = Buffer.from(encodeNameTable(nameRows(shards)));
      return [
        serializeRoot({
          format: 'kiln-index',
          formatVersion: 2,
          name: 'main',
          serial: 3,
          created: index.created,
          expires: index.expires,
          keys: index.keys,
          packages: 2,
          names: { sha256: sha256(names) as IndexEntry['sha256'], size: names.length, count: 2 },
          deltas: [{ from: 2, sha256: sha256(names) as IndexEntry['sha256'], size: 10 }],
          provides: { sha256: sha256(names) as IndexEntry['sha256'], size: 10 },
        }),
      ];
    },
    dictionary: [...JSON_TOKENS, '"deltas"', '"from"', '"advisories"'],
  },
  shard: {
    run: (data) => parseShard(data, 'alpha', 'fuzz'),
    seeds: async () => [encodeShard('alpha', [sampleEntry('alpha', '1.0'), sampleEntry('alpha', '2.0')])],
    dictionary: JSON_TOKENS,
  },
  nameTable: {
    // The sync's check (no rows made) must refuse exactly what the full parse refuses.
    run: (data) => {
      let checked: number | undefined;
      try {
        checked = checkNameTable(text(data), 'fuzz');
      } catch (error) {
        if (!isKilnError(error)) throw error;
      }
      let parsed: number | undefined;
      try {
        parsed = parseNameTable(text(data), 'fuzz').size;
      } catch (error) {
        if (checked !== undefined) throw new Error('checkNameTable accepted a table that parseNameTable refuses');
        throw error;
      }
      if (checked !== parsed) throw new Error(`checkNameTable counts ${checked} lines, parseNameTable ${parsed}`);
    },
    seeds: async () => {
      const index = sampleIndex();
      const shards = new Map(
        index.packages.map((entry) => [
          entry.name,
          { pin: { sha256: entry.sha256, size: 10 }, entries: [entry] as readonly IndexEntry[] },
        ]),
      );
      return [Buffer.from(encodeNameTable(nameRows(shards)))];
    },
    dictionary: ['\t', '\n', ' ', '0'],
  },
  fileList: {
    // The JSON inside (compressed here): mutated zstd data would only ever test the decompressor's refusals.
    run: (data) => decodeFileList(compressOnce(data, 1), 'fuzz'),
    seeds: async () => [
      Buffer.from(
        JSON.stringify({
          format: 'kiln-files',
          formatVersion: 1,
          name: 'main',
          serial: 2,
          packages: [
            {
              name: 'alpha',
              version: '1.0',
              variant: '654accc5733a',
              sha256: 'a'.repeat(64),
              files: [
                ['bin/a', 'file'],
                ['lib', 'dir'],
                ['l', 'symlink', 'bin/a'],
              ],
            },
          ],
        }),
      ),
    ],
    dictionary: [...JSON_TOKENS, '"symlink"', '"hardlink"', '"../x"', '"/abs"'],
  },
  advisories: {
    run: (data) => parseAdvisories(data, 'fuzz'),
    seeds: async (_work, root) => [
      encodeAdvisories(
        advisoryDocument(shippedAdvisories(root), [
          { advisory: 'CVE-2023-45853', name: 'zlib', versions: '>=1', variant: '', status: 'not-affected', justification: 'x' },
        ]),
      ),
    ],
    dictionary: [...JSON_TOKENS, '"introduced"', '"fixed"', '"last_affected"', '"0"', '"ECOSYSTEM"', '"withdrawn"'],
  },
  pkgsrc: {
    run: (data) => importPkgsrc(text(data), 'fuzz', new Date(0)),
    seeds: async () => [Buffer.from('nginx<1.25.3\tdos\thttps://x.org/CVE-2023-44487\nzlib>=1.2<1.3\tx\thttps://x.org/a\nname-[0-9]*\tx\thttps://x.org/b\n')],
    dictionary: ['<', '<=', '>=', '>', '-[0-9]*', '\t', '\n', '#', 'CVE-2023-1', '-----BEGIN PGP SIGNATURE-----'],
  },
  problem: {
    run: (data) => parseProblem(text(data)),
    seeds: async (_work, root) => {
      const dir = join(root, 'test', 'solver-cases');
      return readdirSync(dir)
        .filter((file) => file.endsWith('.json'))
        .slice(0, 12)
        .map((file) => Buffer.from(JSON.stringify((JSON.parse(readFileSync(join(dir, file), 'utf8')) as { problem: unknown }).problem)));
    },
    dictionary: [...JSON_TOKENS, '"install"', '"remove"', '"depends"', '"provides"', '"conflicts"', '"advisories"'],
  },
  recipe: {
    run: (data) => parseRecipeText(text(data), '/nonexistent/recipe', 'app-misc', 'hello'),
    seeds: async (_work, root) => {
      const found: Buffer[] = [];
      const dir = join(root, 'recipes');
      for (const category of readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory()))
        for (const name of readdirSync(join(dir, category.name)))
          try {
            found.push(readFileSync(join(dir, category.name, name, 'recipe.toml')));
          } catch {
            // Not a recipe directory.
          }
      return found.slice(0, 8);
    },
    dictionary: ['=', '"', '[', ']', '\n', '[options]', 'depends', 'sources', 'sha256', '{', '}', "'''"],
  },
  prefixConfig: {
    run: (data) => parsePrefixConfig(text(data), 'fuzz/config.toml'),
    seeds: async () => [
      Buffer.from(
        'format = 1\nmode = "user"\n[[remotes]]\nname = "main"\nurl = "https://x.org/r"\nkeys = ["RWQ"]\n[solver]\noptions = ["+ssl"]\nallow-advisories = ["CVE-2023-1"]\n',
      ),
    ],
    dictionary: ['=', '"', '[', ']', '[[', ']]', '\n', 'remotes', 'solver', 'mirrors'],
  },
  elf: {
    run: (data) => readElf(data, 'fuzz'),
    seeds: async () => [readFileSync('/bin/true').subarray(0, 64 * 1024)],
    dictionary: ['\x7fELF', '\x02\x01\x01', '\x00\x00\x00\x00', '\xff\xff\xff\xff'],
  },
  packInput: {
    run: (data) => {
      let json: unknown;
      try {
        json = JSON.parse(text(data));
      } catch {
        return;
      }
      parsePackInput(json, 'fuzz');
    },
    seeds: async () => [
      Buffer.from(
        '{"name":"hello","category":"app-misc","version":"1.0","summary":"s","homepage":"https://x.org/","license":"MIT","options":{"ssl":true},"target":{"arch":"x86_64","cpu":"x86-64","libc":"glibc","libcVersion":"2.17"},"depends":["zlib >=1.2"]}',
      ),
    ],
    dictionary: JSON_TOKENS,
  },
  package: {
    run: async (data) => {
      // Written to a file and opened as a download would be.
      writeFileSync(packagePath, data);
      await openPackage(packagePath);
    },
    seeds: async (work) => {
      const stage = join(work, 'stage');
      mkdirSync(join(stage, 'bin'), { recursive: true });
      writeFileSync(join(stage, 'bin', 'hello'), '#!/bin/sh\necho hello\n', { mode: 0o755 });
      const input = parsePackInput(
        {
          name: 'hello',
          category: 'app-misc',
          version: '1.0',
          summary: 's',
          homepage: 'https://x.org/',
          license: 'MIT',
          options: {},
          target: { arch: 'x86_64', cpu: 'x86-64', libc: 'glibc', libcVersion: '2.17' },
        },
        'seed',
      );
      const result = await pack({ stageDir: stage, input, outDir: join(work, 'out'), secretKey: generateKeyPair(), durable: false });
      packagePath = join(work, 'input.kpkg');
      return [readFileSync(result.path)];
    },
    dictionary: ['KILNPKG', '\x00\x00\x00\x00', '\xff\xff\xff\xff', '{', '}'],
  },
  requestPath: {
    run: (data) => requestPath(text(data)),
    seeds: async () => ['/index.json', '/packages/a%20b/x.kpkg?x=1', '/%2e%2e/etc'].map((s) => Buffer.from(s)),
    dictionary: ['%2e', '%2f', '%00', '%c0%ae', '/', '..', '?', '#', '\\'],
  },
};

let packagePath = '/nonexistent';
