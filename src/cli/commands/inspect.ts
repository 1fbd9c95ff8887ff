import type { ManifestEntry } from '../../format/index.js';
import {
  formatMode,
  fullVersion,
  openPackage,
  parsePackageSignature,
  readPayload,
  verifyPackageSignature,
} from '../../format/index.js';
import { readPublicKeyFile } from '../../sign/index.js';
import { listOption, noMorePositionals, positional } from '../args.js';
import type { Command } from '../command.js';
import { bytes, optionList, table } from '../render.js';

const command: Command = {
  words: ['inspect'],
  summary: "print a package's metadata and manifest, and verify its hashes",
  usage: [
    'kiln inspect PACKAGE [--trust PUBKEY...] [--json]',
    '',
    'Reads the metadata without decompressing the payload, then checks the payload and every',
    'file against the manifest. With --trust the embedded signature is checked too.',
    'Example: kiln inspect zlib-1.3.1-5d1c7f3a2b90.kpkg --trust keys/6B7BC42F2B3A01E0.pub',
  ].join('\n'),
  options: { trust: { type: 'string', multiple: true } },
  async run(invocation) {
    const path = positional(invocation, command, 0, 'PACKAGE');
    noMorePositionals(invocation, command, 1);
    const trusted = await Promise.all(listOption(invocation, 'trust').map((file) => readPublicKeyFile(file)));
    const pkg = await openPackage(path);
    let signature: { status: 'valid' | 'unchecked' | 'unsigned'; keyId?: string };
    if (trusted.length > 0) {
      signature = {
        status: 'valid',
        keyId: verifyPackageSignature(path, pkg.metadata, pkg.metadataBytes, pkg.signatureText, trusted).keyId,
      };
    } else if (pkg.signatureText !== undefined) {
      signature = { status: 'unchecked', keyId: parsePackageSignature(pkg.signatureText, path).keyId };
    } else {
      signature = { status: 'unsigned' };
    }
    await readPayload(pkg);
    const meta = pkg.metadata;
    const relocated = new Map((meta.relocation?.files ?? []).map((file) => [file.path, file]));
    const fields: [string, string][] = [
      ['package', `${meta.name} ${fullVersion(meta)} (${meta.category})`],
      ['variant', `${meta.variant}  options [${optionList(meta.options)}]`],
      ['target', `${meta.target.arch} ${meta.target.cpu} ${meta.target.libc} >=${meta.target.libcVersion}`],
      ['summary', meta.summary],
      ['homepage', meta.homepage || '-'],
      ['license', meta.license],
      ['depends', meta.depends.map((dep) => (dep.range ? `${dep.name} ${dep.range}` : dep.name)).join(', ') || '-'],
      ['provides', meta.provides.sonames.join(' ') || '-'],
      [
        'needs',
        meta.needs.sonames
          .map((soname) => (meta.needs.system?.includes(soname) === true ? `${soname} (host)` : soname))
          .join(' ') || '-',
      ],
      ['users', meta.users.map((user) => user.name).join(' ') || '-'],
      ['groups', meta.groups.map((group) => group.name).join(' ') || '-'],
      [
        'directories',
        meta.directories.map((dir) => `${dir.path} (${dir.owner}:${dir.group} ${formatMode(dir.mode)})`).join(', ') ||
          '-',
      ],
      [
        'relocation',
        meta.relocation ? `${meta.relocation.files.length} file(s) hold ${meta.relocation.placeholder}` : 'none',
      ],
      ['size', `${bytes(pkg.fileSize)} file, ${bytes(meta.installedSize)} installed, ${meta.files.length} entries`],
      [
        'signature',
        signature.status === 'valid'
          ? `valid, key ${signature.keyId}`
          : signature.status === 'unchecked'
            ? `key ${signature.keyId} (not checked: pass --trust KEY.pub)`
            : 'none',
      ],
      ['verified', 'payload sha256 and every file sha256 match the metadata'],
    ];
    const lines = [
      table(fields),
      '',
      table([
        ['MODE', 'OWNER', 'SIZE', 'FLAGS', 'PATH'],
        ...meta.files.map((entry) => manifestRow(entry, relocated.has(entry.path))),
      ]),
    ];
    // JSON output carries the metadata exactly as stored (modes as octal strings).
    return {
      data: { path, metadata: JSON.parse(pkg.metadataBytes.toString('utf8')) as unknown, signature, verified: true },
      text: lines.join('\n'),
    };
  },
};

function manifestRow(entry: ManifestEntry, relocated: boolean): string[] {
  const kind = { file: '-', dir: 'd', symlink: 'l', hardlink: 'h' }[entry.type];
  const flags = [entry.config ? 'config' : '', relocated ? 'relocate' : ''].filter(Boolean).join(',');
  const name =
    entry.type === 'symlink'
      ? `${entry.path} -> ${entry.target}`
      : entry.type === 'hardlink'
        ? `${entry.path} => ${entry.target}`
        : entry.type === 'dir'
          ? `${entry.path}/`
          : entry.path;
  return [`${kind}${formatMode(entry.mode)}`, `${entry.owner}:${entry.group}`, String(entry.size), flags || '.', name];
}

export default command;
