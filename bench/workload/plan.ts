/**
 * What the generated benchmark packages hold, all decided from a seed and a
 * shape (SHAPES): N packages, some of the bytes in many small text-like files
 * (config files under etc/, a shared library with its soname symlinks, an
 * executable under bin/, headers, other symlinks), the rest in a few large
 * binary-ish files (executables under bin/ and libraries, mode 0755); a
 * dependency DAG where packages depend on earlier ones only.
 */
import { basename } from 'node:path';
import { seededRandom } from '../../src/util/seededRandom.js';
import { BinaryGenerator, type TextGenerator } from './content.js';

const KIB = 1024;
const MIB = 1024 * 1024;
const CATEGORIES = [
  'dev-libs',
  'sys-libs',
  'app-misc',
  'net-misc',
  'www-servers',
  'dev-lang',
  'media-libs',
  'x11-libs',
];
const LICENSES = ['MIT', 'BSD-2-Clause', 'GPL-2.0-or-later', 'Apache-2.0 OR MIT', 'LGPL-2.1-only', 'Zlib'];
const EXTENSIONS = ['txt', 'py', 'h', 'html', 'json', 'c', 'md', 'xml', 'pl', 'js'];
/**
 * A workload's shape: how big its small files are, what share of the bytes
 * sits in large binary-ish files and how big those are. Sizes are log-uniform
 * between the bounds (bytes); large sizes are then scaled to the budget.
 */
export interface Shape {
  /** Packages and MiB when the command line does not say. */
  packages: number;
  mib: number;
  smallMin: number;
  smallMax: number;
  largeShare: number;
  largeMin: number;
  largeMax: number;
  /** Typical bytes of one large package: how many large packages there are. */
  largePackageBytes: number;
  /** Fewest small files in a small package. */
  minFiles: number;
}

/**
 * - mixed: many small text-like files (200 B–8 KiB) and half the bytes in 1–8 MiB files; 300 packages, 300 MiB,
 *   about 80,000 entries.
 * - medium: fewer, larger files (1–100 KiB, a third of the bytes in 1–8 MiB files); 300 packages, 400 MiB, about
 *   17,000 entries, the shape of an independent harness's workload.
 * - huge: a few very large files (32–128 MiB) in a few packages, beside small ones; 20 packages, 400 MiB.
 */
export const SHAPES = {
  mixed: {
    packages: 300,
    mib: 300,
    smallMin: 200,
    smallMax: 8 * KIB,
    largeShare: 0.5,
    largeMin: 1 * MIB,
    largeMax: 8 * MIB,
    largePackageBytes: 10 * MIB,
    minFiles: 40,
  },
  medium: {
    packages: 300,
    mib: 400,
    smallMin: 1 * KIB,
    smallMax: 100 * KIB,
    largeShare: 0.33,
    largeMin: 1 * MIB,
    largeMax: 8 * MIB,
    largePackageBytes: 10 * MIB,
    minFiles: 10,
  },
  huge: {
    packages: 20,
    mib: 400,
    smallMin: 200,
    smallMax: 8 * KIB,
    largeShare: 0.98,
    largeMin: 32 * MIB,
    largeMax: 128 * MIB,
    largePackageBytes: 100 * MIB,
    minFiles: 20,
  },
} as const satisfies Record<string, Shape>;
export type ShapeName = keyof typeof SHAPES;
export const SHAPE_NAMES = Object.keys(SHAPES) as ShapeName[];

/** Mean size of a small file of this shape (bytes). */
export function smallMean(shape: Shape): number {
  return (shape.smallMax - shape.smallMin) / Math.log(shape.smallMax / shape.smallMin);
}

export type Kind = 'files' | 'blob';

export interface PackageSpec {
  index: number;
  name: string;
  kind: Kind;
  version: string;
  category: string;
  license: string;
  depends: string[];
  /** Seed of this package's content. */
  seed: number;
  /** files: how many small files; blob: the sizes of the large files. */
  fileCount: number;
  /** Bounds of the small files' sizes (bytes). */
  smallMin: number;
  smallMax: number;
  largeSizes: number[];
}

/** Which packages there are, what they hold and depend on: all decided from the seed. */
export function planPackages(
  count: number,
  totalBytes: number,
  seed: number,
  shape: Shape = SHAPES.mixed,
): PackageSpec[] {
  const random = seededRandom(seed);
  const logUniform = (min: number, max: number) => Math.exp(Math.log(min) + random() * (Math.log(max) - Math.log(min)));
  const largeBudget = totalBytes * shape.largeShare;
  const largeCount = Math.max(1, Math.min(count - 1, Math.round(largeBudget / shape.largePackageBytes)));
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const isLarge = new Set(order.slice(0, largeCount));

  // Small-file counts: heavy-tailed weights, scaled so the bytes fit the budget.
  const smallFiles = (totalBytes - largeBudget) / smallMean(shape);
  const weights = new Map<number, number>();
  for (let i = 0; i < count; i++) if (!isLarge.has(i)) weights.set(i, logUniform(1, 60));
  const weightSum = [...weights.values()].reduce((a, b) => a + b, 0);

  // Large files: one to four per package, log-uniform 1–8 MiB, scaled to the budget.
  const rawLarge = new Map<number, number[]>();
  for (const i of isLarge)
    rawLarge.set(
      i,
      Array.from({ length: 1 + Math.floor(random() * 4) }, () => logUniform(shape.largeMin, shape.largeMax)),
    );
  const rawSum = [...rawLarge.values()].flat().reduce((a, b) => a + b, 0);
  const scale = largeBudget / rawSum;

  const specs: PackageSpec[] = [];
  let files = 0;
  let blobs = 0;
  for (let i = 0; i < count; i++) {
    const kind: Kind = isLarge.has(i) ? 'blob' : 'files';
    const name =
      kind === 'blob' ? `blob${String(++blobs).padStart(4, '0')}` : `files${String(++files).padStart(4, '0')}`;
    specs.push({
      index: i,
      name,
      kind,
      version: `1.${Math.floor(random() * 20)}.${Math.floor(random() * 10)}`,
      category: CATEGORIES[Math.floor(random() * CATEGORIES.length)]!,
      license: LICENSES[Math.floor(random() * LICENSES.length)]!,
      depends: [],
      seed: Math.floor(random() * 2 ** 31),
      fileCount:
        kind === 'files' ? Math.max(shape.minFiles, Math.round((smallFiles * weights.get(i)!) / weightSum)) : 0,
      smallMin: shape.smallMin,
      smallMax: shape.smallMax,
      largeSizes:
        kind === 'blob'
          ? rawLarge.get(i)!.map((size) => Math.round(Math.min(shape.largeMax, Math.max(shape.largeMin, size * scale))))
          : [],
    });
  }
  // Dependencies point at earlier packages only (no cycles); a third of them at large "library" packages.
  const largeNames = specs.filter((spec) => spec.kind === 'blob');
  for (const spec of specs) {
    if (spec.index === 0) continue;
    const wanted = Math.floor(random() * 4);
    const chosen = new Set<string>();
    for (let k = 0; k < wanted; k++) {
      const earlierLarge = largeNames.filter((other) => other.index < spec.index);
      const target =
        random() < 0.33 && earlierLarge.length > 0
          ? earlierLarge[Math.floor(random() * earlierLarge.length)]!
          : specs[Math.floor(random() * spec.index)]!;
      chosen.add(target.name);
    }
    spec.depends = [...chosen].sort().map((name) => `${name} >=1.0`);
  }
  return specs;
}

export interface StagedFile {
  path: string;
  content?: Buffer;
  mode?: number;
  symlink?: string;
}

/** The files of one package, relative to its stage directory. */
export function packageFiles(
  spec: PackageSpec,
  text: TextGenerator,
): { files: StagedFile[]; configFiles: string[]; sonames: string[] } {
  const random = seededRandom(spec.seed);
  const { name } = spec;
  const files: StagedFile[] = [];
  const configFiles: string[] = [];
  const small = () =>
    Math.round(Math.exp(Math.log(spec.smallMin) + random() * Math.log(spec.smallMax / spec.smallMin)));
  const addConfig = (path: string) => {
    files.push({ path, content: text.config(small(), random), mode: 0o644 });
    configFiles.push(path);
  };
  if (spec.kind === 'blob') {
    const binary = new BinaryGenerator(spec.seed);
    const major = 1 + Math.floor(random() * 5);
    const places = [
      `lib/lib${name}.so.${major}.${Math.floor(random() * 10)}.0`,
      `bin/${name}`,
      `lib/${name}/plugins/${text.word(random)}.so`,
      `share/${name}/${name}.dat`,
    ];
    spec.largeSizes.forEach((size, i) => {
      files.push({ path: places[i]!, content: binary.content(size, random), mode: i === 3 ? 0o644 : 0o755 });
    });
    files.push({ path: `lib/lib${name}.so.${major}`, symlink: basename(places[0]!) });
    files.push({ path: `lib/lib${name}.so`, symlink: `lib${name}.so.${major}` });
    addConfig(`etc/${name}.conf`);
    files.push({ path: `share/doc/${name}/README`, content: text.text(small(), random) });
    return { files, configFiles, sonames: [`lib${name}.so.${major}`] };
  }
  files.push({
    path: `bin/${name}`,
    content: Buffer.concat([Buffer.from('#!/bin/sh\n'), text.text(small(), random)]),
    mode: 0o755,
  });
  files.push({ path: `lib/lib${name}.so.1.0.0`, content: text.text(small(), random), mode: 0o755 });
  files.push({ path: `lib/lib${name}.so.1`, symlink: `lib${name}.so.1.0.0` });
  files.push({ path: `lib/lib${name}.so`, symlink: `lib${name}.so.1` });
  addConfig(`etc/${name}/${name}.conf`);
  const extraConfigs = 1 + Math.floor(random() * 4);
  for (let i = 0; i < extraConfigs; i++)
    addConfig(`etc/${name}/conf.d/${String(10 * (i + 1)).padStart(2, '0')}-${text.word(random)}.conf`);
  files.push({ path: `share/doc/${name}/README`, content: text.text(small(), random) });
  files.push({ path: `share/doc/${name}/COPYING`, content: text.text(small(), random) });
  const rest = Math.max(0, spec.fileCount - files.length);
  const headers = Math.floor(rest * 0.1);
  for (let i = 0; i < headers; i++)
    files.push({ path: `include/${name}/${text.word(random)}_${i}.h`, content: text.text(small(), random) });
  // The rest in directories of about 32 files, two levels deep.
  const top = Array.from({ length: Math.ceil((rest - headers) / 256) }, (_, k) => `${text.word(random)}${k}`);
  const sub = Array.from({ length: 8 }, (_, k) => `${text.word(random)}${k}`);
  for (let i = 0; i < rest - headers; i++) {
    const dir = Math.floor(i / 32);
    const path = `share/${name}/${top[Math.floor(dir / 8)]}/${sub[dir % 8]}`;
    const file = `${text.word(random)}-${i}.${EXTENSIONS[Math.floor(random() * EXTENSIONS.length)]}`;
    files.push({ path: `${path}/${file}`, content: text.text(small(), random) });
    if (i % 50 === 49) files.push({ path: `${path}/latest-${i}`, symlink: file });
  }
  return { files, configFiles, sonames: [`lib${name}.so.1`] };
}
