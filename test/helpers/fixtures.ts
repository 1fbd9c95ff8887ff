/**
 * Tiny declarative fixtures: staged trees and pack inputs made on the fly.
 */
import { chmod, link, mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export type TreeSpec = Record<
  string,
  | string
  | Buffer
  | { content: string | Buffer; mode: number }
  | { symlink: string }
  | { hardlink: string }
  | { dir: true; mode?: number }
>;

/**
 * Create a staged tree: keys are relative paths; values are file contents,
 * `{ symlink }`, `{ hardlink }` (to another key) or `{ dir: true }`.
 * @example await makeTree(stage, { 'bin/hello': { content: '#!/bin/sh\n', mode: 0o755 }, 'lib/x': { symlink: '../bin/hello' } })
 */
export async function makeTree(root: string, spec: TreeSpec): Promise<void> {
  await mkdir(root, { recursive: true });
  const later: [string, string][] = [];
  for (const [path, value] of Object.entries(spec)) {
    const target = join(root, path);
    await mkdir(dirname(target), { recursive: true });
    if (typeof value === 'string' || Buffer.isBuffer(value)) await writeFile(target, value);
    else if ('symlink' in value) await symlink(value.symlink, target);
    else if ('hardlink' in value) later.push([join(root, value.hardlink), target]);
    else if ('dir' in value) {
      await mkdir(target, { recursive: true });
      if (value.mode !== undefined) await chmod(target, value.mode);
    } else {
      await writeFile(target, value.content);
      await chmod(target, value.mode);
    }
  }
  for (const [existing, target] of later) await link(existing, target);
}

export interface MetaSpec {
  name?: string;
  version?: string;
  revision?: number;
  options?: Record<string, boolean>;
  cpu?: string;
  depends?: string[];
  extra?: Record<string, unknown>;
}

/** A pack input (JSON) with sensible defaults; returns its path. */
export async function writeMeta(path: string, spec: MetaSpec = {}): Promise<string> {
  const meta = {
    name: spec.name ?? 'hello',
    category: 'app-misc',
    version: spec.version ?? '1.0',
    revision: spec.revision ?? 0,
    summary: `The ${spec.name ?? 'hello'} test package`,
    homepage: 'https://example.org/hello',
    license: 'MIT',
    options: spec.options ?? {},
    target: { arch: 'x86_64', cpu: spec.cpu ?? 'x86-64', libc: 'glibc', libcVersion: '2.17' },
    depends: spec.depends ?? [],
    ...spec.extra,
  };
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(meta, null, 2));
  return path;
}
