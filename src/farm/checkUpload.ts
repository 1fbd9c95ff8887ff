/**
 * What the coordinator checks of a package a worker uploaded, before it signs
 * and publishes it. A worker is trusted to build, not to publish: its upload
 * must be exactly the step it was given, and as sound as `kiln build` makes.
 *
 * - **Whole and unsigned.** The container, metadata and manifest safety rules
 *   (by opening it), every file against its sha256 (by reading the payload).
 *   A signature is refused: only the coordinator signs.
 * - **The step asked for.** Category and name, version and revision, target
 *   (architecture, C library, CPU level) and options equal to the step's and
 *   its recipe's defaults.
 * - **ELF files.** Built for the step's architecture; every run path entry
 *   relative to `$ORIGIN` (nothing that names the build's placeholder or a
 *   host directory); no program interpreter inside the package's prefix.
 * - **The relocation table.** Every occurrence of the placeholder in every
 *   file is in the table, at the offsets the table gives, and nothing else is:
 *   an install rewrites exactly those bytes.
 */
import { KilnError } from '../errors/index.js';
import { isElf, readElf } from '../elf/index.js';
import type { ManifestEntry, PackageMetadata } from '../format/index.js';
import { fullVersion, openPackage } from '../format/index.js';
import { readPayload } from '../format/readPayload.js';
import { formatSettings } from '../solver/problem.js';
import type { Step } from './farmQueue.js';

/** e_machine of each architecture Kiln names. */
const MACHINES: Record<string, number> = { x86_64: 62, aarch64: 183, i686: 3, riscv64: 243, ppc64le: 21, s390x: 22 };

/** The part of a file read for the ELF check: headers, program headers and the dynamic section sit well inside. */
const MAX_FILE_BYTES = 512 * 1024 * 1024;

/**
 * Checks the upload at `path` against `step` and the options its recipe
 * builds with; returns its metadata. Any problem is E_FARM_UPLOAD with the
 * reason, which the step's failure records.
 */
export async function checkUpload(
  path: string,
  step: Pick<Step, 'package' | 'version' | 'arch' | 'libc' | 'cpuLevel'>,
  options: Readonly<Record<string, boolean>>,
): Promise<PackageMetadata> {
  let pkg: Awaited<ReturnType<typeof openPackage>>;
  try {
    pkg = await openPackage(path);
  } catch (error) {
    throw refused(step, (error as Error).message.split('\n')[0]!);
  }
  const meta = pkg.metadata;
  if (pkg.signatureText !== undefined) throw refused(step, 'it is signed; a worker uploads its package unsigned');
  const problems: string[] = [];
  const expect = (what: string, got: string, wanted: string, verb = 'is') => {
    if (got !== wanted) problems.push(`${what} ${verb} ${got}, the step asked for ${wanted}`);
  };
  expect('the package', `${meta.category}/${meta.name}`, step.package);
  expect('the version', fullVersion(meta), step.version);
  expect('the architecture', meta.target.arch, step.arch);
  expect('the C library', meta.target.libc, step.libc);
  expect('the CPU level', meta.target.cpu, step.cpuLevel);
  expect('the options', formatOptions(meta.options), formatOptions(options), 'are');
  if (problems.length > 0) throw refused(step, problems.join('; '));

  const placeholder = meta.relocation === null ? undefined : Buffer.from(meta.relocation.placeholder);
  const table = new Map((meta.relocation?.files ?? []).map((file) => [file.path, file.offsets]));
  const machine = MACHINES[meta.target.arch];
  let current: { entry: ManifestEntry; chunks: Buffer[]; size: number } | undefined;
  const checkFile = (entry: ManifestEntry, content: Buffer): void => {
    const found: number[] = [];
    if (placeholder !== undefined) {
      for (let at = content.indexOf(placeholder); at !== -1; at = content.indexOf(placeholder, at + 1)) found.push(at);
    }
    const listed = table.get(entry.path) ?? [];
    if (found.join(',') !== listed.join(','))
      problems.push(
        `${entry.path} holds the placeholder at ${found.length} place(s), and the relocation table lists ${listed.length}`,
      );
    if (!isElf(content)) return;
    const info = readElf(content, `${path}: ${entry.path}`);
    if (machine !== undefined && info.machine !== machine)
      problems.push(`${entry.path} is an ELF file for machine ${info.machine}, not ${meta.target.arch}`);
    for (const dir of [...(info.rpath ?? []), ...(info.runpath ?? [])])
      if (!dir.startsWith('$ORIGIN'))
        problems.push(`${entry.path} has the run path entry ${dir}, not relative to $ORIGIN`);
    if (
      info.interpreter !== undefined &&
      placeholder !== undefined &&
      Buffer.from(info.interpreter).includes(placeholder)
    )
      problems.push(`${entry.path} names an interpreter inside the build's prefix (${info.interpreter})`);
  };
  try {
    await readPayload(pkg, {
      entry(entry) {
        current = entry.type === 'file' ? { entry, chunks: [], size: 0 } : undefined;
      },
      data(entry, chunk) {
        if (current === undefined || current.entry !== entry) return;
        current.size += chunk.length;
        if (current.size > MAX_FILE_BYTES) throw refused(step, `${entry.path} is larger than ${MAX_FILE_BYTES} bytes`);
        current.chunks.push(Buffer.from(chunk));
      },
      end(entry) {
        if (current !== undefined && current.entry === entry) checkFile(entry, Buffer.concat(current.chunks));
        current = undefined;
      },
    });
  } catch (error) {
    if (error instanceof KilnError && error.code === 'E_FARM_UPLOAD') throw error;
    throw refused(step, (error as Error).message.split('\n')[0]!);
  }
  const paths = new Set(meta.files.map((file) => file.path));
  for (const listed of table.keys())
    if (!paths.has(listed)) problems.push(`the relocation table lists ${listed}, which is not in the package`);
  if (problems.length > 0) throw refused(step, problems.slice(0, 5).join('; '));
  return meta;
}

/** `[+pcre -ssl]`: the solver's sorted notation, bracketed and spaced for a sentence. */
function formatOptions(options: Readonly<Record<string, boolean>>): string {
  return `[${formatSettings(options).replaceAll(',', ' ')}]`;
}

function refused(step: Pick<Step, 'package' | 'version'>, why: string): KilnError {
  return new KilnError('E_FARM_UPLOAD', `refused the upload for ${step.package} ${step.version}: ${why}`, {
    hint: 'the worker built something other than its step asked for, or its package is damaged; the step failed with this reason',
  });
}
