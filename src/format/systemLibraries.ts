/**
 * System libraries: the shared libraries a package may take from the host it
 * is installed on instead of from a package of its prefix — the C library
 * and its companions, which every glibc system has, plus whatever a recipe
 * (`[build] system-libraries`) or a pack input (`needs.system`) allows.
 */
import type { Needs } from './metadata.js';

/** Host libraries every package may use: the C library and the compiler's runtime, present on every glibc system. */
export const DEFAULT_SYSTEM_LIBRARIES: readonly string[] = [
  'libc.so.6',
  'libm.so.6',
  'libpthread.so.0',
  'libdl.so.2',
  'librt.so.1',
  'libutil.so.1',
  'libresolv.so.2',
  'libanl.so.1',
  'libcrypt.so.1',
  'libgcc_s.so.1',
  'ld-linux-x86-64.so.2',
  'ld-linux-aarch64.so.1',
  'ld-linux.so.2',
];

/**
 * The needed sonames a package may take from the host: those its metadata
 * lists under `needs.system`. A package of an older Kiln does not say, so any
 * of its needed sonames may: its build accepted only allowed system libraries
 * and libraries of its dependencies, and the dependencies come with it.
 * @example hostSonames({ sonames: ['libc.so.6', 'libz.so.1'], system: ['libc.so.6'] }) // Set { 'libc.so.6' }
 */
export function hostSonames(needs: Pick<Needs, 'sonames' | 'system'>): ReadonlySet<string> {
  return new Set(needs.system ?? needs.sonames);
}
