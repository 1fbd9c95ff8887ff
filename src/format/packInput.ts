/**
 * The pack input (`kiln pack --meta META.toml|META.json`): what the builder
 * knows about a staged tree that the tree itself cannot say. Same field names
 * as the package metadata (docs/format.md, "Pack input").
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { KilnError, isErrno } from '../errors/index.js';
import type { Fail } from '../util/shape.js';
import { expectArray, expectObject, join, optionalString } from '../util/shape.js';
import type { PackageMetadata, Target } from './metadata.js';
import {
  ACCOUNT_PATTERN,
  expectSafePath,
  parseDescriptiveFields,
  parseIdentityFields,
  parseMode,
  parseOptionChoice,
  parseOptions,
  parseTarget,
} from './metadata.js';

/** Special ownership and permissions for packed paths (pkgsrc SPECIAL_PERMS). */
export interface PermissionSpec {
  path: string;
  owner?: string;
  group?: string;
  mode?: number;
}

export type PackInput = Pick<
  PackageMetadata,
  | 'name'
  | 'category'
  | 'version'
  | 'revision'
  | 'options'
  | 'defaults'
  | 'role'
  | 'summary'
  | 'homepage'
  | 'license'
  | 'depends'
  | 'provides'
  | 'needs'
  | 'users'
  | 'groups'
  | 'directories'
> & {
  target: Target;
  /** Paths (relative to the prefix) of configuration files. */
  configFiles: string[];
  permissions: PermissionSpec[];
  /** The placeholder prefix the tree was built with, if any: every file holding it gets a relocation row. */
  placeholder: string | null;
};

const INPUT_KEYS = [
  'name',
  'category',
  'version',
  'revision',
  'options',
  'defaults',
  'role',
  'target',
  'summary',
  'homepage',
  'license',
  'depends',
  'provides',
  'needs',
  'users',
  'groups',
  'directories',
  'configFiles',
  'permissions',
  'placeholder',
];

/** Read a pack input file; TOML for `.toml`, JSON otherwise. */
export async function readPackInput(path: string): Promise<PackInput> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT'))
      throw new KilnError('E_IO', `cannot read pack input ${path}: no such file`, { cause: error });
    throw error;
  }
  let data: unknown;
  if (extname(path) === '.toml') {
    try {
      data = parseToml(text);
    } catch (error) {
      if (!(error instanceof TomlError)) throw error;
      throw new KilnError('E_META', `cannot read pack input ${path}: invalid TOML: ${error.message.split('\n')[0]}`, {
        cause: error,
      });
    }
  } else {
    try {
      data = JSON.parse(text) as unknown;
    } catch (error) {
      throw new KilnError('E_META', `cannot read pack input ${path}: invalid JSON: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  return parsePackInput(data, path);
}

/** Check a pack input already parsed from JSON or TOML. */
export function parsePackInput(data: unknown, source: string): PackInput {
  const fail: Fail = (where, problem) => {
    throw new KilnError('E_META', `cannot read pack input ${source}: ${where} ${problem}`, {
      hint: 'see docs/format.md, section "Pack input", for every field',
    });
  };
  const root = expectObject(data, '(top level)', fail, INPUT_KEYS);
  const placeholder =
    optionalString(
      root['placeholder'],
      'placeholder',
      fail,
      /^\/[^\u0000\n]{7,}$/,
      'an absolute path of at least 8 characters',
    ) ?? null;
  const configFiles = expectArray(root['configFiles'] ?? [], 'configFiles', fail).map((item, i) => {
    return expectSafePath(item, join('configFiles', i), fail);
  });
  const permissions = expectArray(root['permissions'] ?? [], 'permissions', fail).map((item, i) => {
    const where = join('permissions', i);
    const spec = expectObject(item, where, fail, ['path', 'owner', 'group', 'mode']);
    const path = expectSafePath(spec['path'], join(where, 'path'), fail);
    const result: PermissionSpec = { path };
    const owner = optionalString(spec['owner'], join(where, 'owner'), fail, ACCOUNT_PATTERN, 'a user name');
    const group = optionalString(spec['group'], join(where, 'group'), fail, ACCOUNT_PATTERN, 'a group name');
    if (owner !== undefined) result.owner = owner;
    if (group !== undefined) result.group = group;
    if (spec['mode'] !== undefined) result.mode = parseMode(spec['mode'], join(where, 'mode'), fail);
    return result;
  });
  const options = parseOptions(root['options'], 'options', fail);
  const choice = parseOptionChoice(root, options, fail);
  return {
    ...parseIdentityFields({ ...root, revision: root['revision'] ?? 0 }, fail),
    options,
    // A package packed by hand states its defaults, or is the only variant there is: its options are the defaults.
    defaults: choice.defaults ?? { ...options },
    ...(choice.role === undefined ? {} : { role: choice.role }),
    target: parseTarget(root['target'], 'target', fail),
    ...parseDescriptiveFields(root, fail, 'pack input'),
    configFiles,
    permissions,
    placeholder,
  };
}
