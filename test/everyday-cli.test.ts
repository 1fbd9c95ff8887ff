/**
 * The command line a daily user meets: queries of a prefix by a user who may
 * read but not write it, one reader for config.toml with line and column,
 * keys added to and removed from a remote, hints that lead somewhere, command
 * lines printed shell-quoted, the plan shown once, and colour only on a
 * terminal.
 */
import * as assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fails, failsAs, kilnAs, ok, okAs, packAll, publish, syncedPrefix, testUser } from './helpers/client.js';
import { kiln, tempDir, parseJson } from './helpers/kiln.js';
import { resignIndex } from './helpers/resign.js';
import { kilnOnTerminal } from './helpers/terminal.js';

async function installed(dir: string, prefix: string): Promise<void> {
  await publish(
    dir,
    await packAll(dir, [
      { name: 'hello', version: '1.0', tree: { 'share/hello/readme.txt': 'hello\n' } },
      { name: 'other', version: '2.0', tree: { 'share/other/x': 'x\n' } },
    ]),
  );
  await syncedPrefix(dir, prefix);
  await ok(['--prefix', prefix, 'install', 'hello', '-y'], { cwd: dir });
}

test('another user who can read the prefix queries it as its owner does; a change says to run as the owner', async (t) => {
  const user = testUser();
  if (user === undefined) {
    t.skip('running as another user needs root (CI runs as root)');
    return;
  }
  const dir = await tempDir(t);
  // Readable by everyone, as a shared prefix such as /opt/stack is; writable by its owner only.
  await chmod(dir, 0o755);
  const prefix = join(dir, 'prefix');
  await installed(dir, prefix);
  for (const args of [
    ['list'],
    ['list', '--available'],
    ['info', 'hello'],
    ['files', 'hello'],
    ['owns', 'share/hello/readme.txt'],
    ['history'],
    ['search', 'hello'],
    ['deps', 'hello'],
    ['verify', 'hello'],
  ]) {
    const mine = await ok(['--prefix', prefix, ...args, '--json'], { cwd: dir });
    const theirs = await kilnAs(user, ['--prefix', prefix, ...args, '--json'], { cwd: '/' });
    assert.equal(theirs.code, 0, `${args.join(' ')}: ${theirs.stderr}`);
    assert.deepEqual(parseJson(theirs.stdout), parseJson(mine), args.join(' '));
  }
  await failsAs(
    user,
    ['--prefix', prefix, 'install', 'other', '-y'],
    'E_IO',
    /hint: run the command as the prefix's owner, root \(uid 0\)/,
    {
      cwd: '/',
    },
  );
  assert.match(await okAs(user, ['--prefix', prefix, 'list', '-q'], { cwd: '/' }), /^hello$/m);
});

test('config.toml: one reader for every command, with line and column', async (t) => {
  const dir = await tempDir(t);
  const prefix = join(dir, 'prefix');
  await installed(dir, prefix);
  const config = join(prefix, 'etc/kiln/config.toml');
  const good = await readFile(config, 'utf8');
  await writeFile(config, good.replace('fsync = true\n', 'fsync = true\nbogus = 1\n'));
  const line = good.split('\n').indexOf('fsync = true') + 2;
  for (const args of [['list'], ['owns', 'share'], ['search', 'x'], ['info', 'hello'], ['sync'], ['history']]) {
    await fails(
      ['--prefix', prefix, ...args],
      'E_CONFIG',
      new RegExp(`config\\.toml: line ${line}, column 1: bogus is not a known field`),
      { cwd: dir },
    );
  }
  await writeFile(config, good.replace('jobs = 4', 'jobs = = 4'));
  for (const args of [['list'], ['install', 'other', '-y']]) {
    await fails(
      ['--prefix', prefix, ...args],
      'E_CONFIG',
      /line \d+, column 8: invalid value \(the file is not valid TOML\)/,
      { cwd: dir },
    );
  }
  await writeFile(config, `${good}\n[remotes.second]\nurl = "x"\nkey = "y"\n`);
  await fails(
    ['--prefix', prefix, 'list'],
    'E_CONFIG',
    /line \d+, column 1: remotes\.second\.key is not a known field/,
    {
      cwd: dir,
    },
  );
});

test('a repository that changes its key: the untrusted-key hint names "kiln remote key add", which works; remove takes ids', async (t) => {
  const dir = await tempDir(t);
  const prefix = join(dir, 'prefix');
  await installed(dir, prefix);
  await ok(['key', 'generate', '--out', 'new'], { cwd: dir });
  await resignIndex(join(dir, 'repo/public'), join(dir, 'new/kiln.key'), () => undefined);
  const untrusted = await fails(['--prefix', prefix, 'sync'], 'E_SIGNATURE_UNTRUSTED', /made by key [0-9A-F]{16}/, {
    cwd: dir,
  });
  assert.match(
    untrusted.stderr,
    /hint: if the repository now signs with key [0-9A-F]{16} and you trust it, add its public key: kiln --prefix \S+ remote key add main PUBKEY/,
  );
  const oldId = (parseJson(await ok(['key', 'show', 'keys/kiln.pub', '--json'], { cwd: dir })) as { keyId: string })
    .keyId;
  const newId = (parseJson(await ok(['key', 'show', 'new/kiln.pub', '--json'], { cwd: dir })) as { keyId: string })
    .keyId;
  assert.match(
    await ok(['--prefix', prefix, 'remote', 'key', 'add', 'main', 'new/kiln.pub'], { cwd: dir }),
    new RegExp(`trusts ${oldId}, ${newId}`),
  );
  await ok(['--prefix', prefix, 'sync'], { cwd: dir });
  assert.match(
    await ok(['--prefix', prefix, 'remote', 'key', 'remove', 'main', oldId], { cwd: dir }),
    new RegExp(`trusts ${newId}$`, 'm'),
  );
  await fails(['--prefix', prefix, 'remote', 'key', 'remove', 'main', oldId], 'E_USAGE', /does not trust it/, {
    cwd: dir,
  });
  await fails(
    ['--prefix', prefix, 'remote', 'key', 'remove', 'main', newId],
    'E_USAGE',
    /a remote must trust at least one/,
    {
      cwd: dir,
    },
  );
  await fails(['--prefix', prefix, 'remote', 'key', 'add', 'nosuch', 'new/kiln.pub'], 'E_REMOTE_NOT_FOUND', /nosuch/, {
    cwd: dir,
  });
  const help = await ok(['remote', 'key', '--help'], { cwd: dir });
  assert.match(help, /kiln remote key add/);
  assert.match(help, /kiln remote key remove/);
  await fails(['remote', 'key', 'ad'], 'E_USAGE', /did you mean "kiln remote key add"/, { cwd: dir });
});

test('an expired index: the hints say what helps (a fresh index from the repository), not only "kiln sync"', async (t) => {
  const dir = await tempDir(t);
  const prefix = join(dir, 'prefix');
  await installed(dir, prefix);
  const later = { KILN_NOW: '2099-01-01T00:00:00Z' };
  const install = await fails(['--prefix', prefix, 'install', 'other', '-y'], 'E_INDEX_EXPIRED', /expired at/, {
    cwd: dir,
    env: later,
  });
  assert.match(
    install.stderr,
    /run "kiln --prefix \S+ sync main" for a newer index; if that is refused as expired too, the repository has stopped publishing/,
  );
  const sync = await fails(['--prefix', prefix, 'sync'], 'E_INDEX_EXPIRED', /expired at/, { cwd: dir, env: later });
  assert.match(sync.stderr, /its maintainer must commit one/);
});

test('command lines printed for the user are shell-quoted', async (t) => {
  const dir = await tempDir(t);
  const prefix = join(dir, "my stack's prefix");
  const out = await ok(['--prefix', prefix, 'init'], { cwd: dir });
  assert.ok(out.includes(`next: kiln --prefix '${prefix.replace(/'/g, "'\\''")}' remote add`), out);
  // A command suggested for a prefix named with --prefix names it too.
  const quoted = `'${prefix.replace(/'/g, "'\\''")}'`;
  const unsynced = await fails(
    ['--prefix', prefix, 'install', 'x', '-y'],
    'E_NOT_SYNCED',
    /no remote has been synced/,
    {
      cwd: dir,
    },
  );
  assert.ok(
    unsynced.stderr.includes(
      `"kiln --prefix ${quoted} remote add NAME URL --key PUBKEY", then run "kiln --prefix ${quoted} sync"`,
    ),
    unsynced.stderr,
  );
  const missing = join(dir, 'no such');
  const result = await fails(['--prefix', missing, 'install', 'x'], 'E_PREFIX_NOT_FOUND', /no such directory/, {
    cwd: dir,
  });
  assert.ok(result.stderr.includes(`"kiln --prefix '${missing}' init"`), result.stderr);
});

test('on a terminal the plan is shown once, before the change, with -y too; colour there and nowhere else', async (t) => {
  const dir = await tempDir(t);
  const prefix = join(dir, 'prefix');
  await installed(dir, prefix);
  const screen = await kilnOnTerminal(['--prefix', prefix, 'install', 'other', '-y'], {
    cwd: dir,
    env: { NO_COLOR: undefined },
  });
  assert.equal(screen.code, 0, screen.screen);
  assert.equal(screen.screen.match(/install\S* +other/g)?.length, 1, screen.screen);
  assert.ok(screen.screen.indexOf('other') < screen.screen.indexOf('done (transaction'), screen.screen);
  // The plan's action in colour, and a download line with its size and time.
  assert.match(screen.screen, /\x1b\[32minstall\x1b\[0m +other/);
  assert.match(screen.screen, /downloaded other 2\.0 +[\d.]+ [KM]?i?B in [\d.]+ s/);
  const error = await kilnOnTerminal(['--prefix', prefix, 'install', 'nosuch', '-y'], {
    cwd: dir,
    env: { NO_COLOR: undefined },
  });
  assert.match(error.screen, /\x1b\[1;31mkiln: error\[E_NO_CANDIDATE\]:\x1b\[0m/);
  const plain = await kilnOnTerminal(['--prefix', prefix, 'install', 'nosuch', '-y'], { cwd: dir });
  assert.doesNotMatch(plain.screen, /\x1b\[/);
  // Off a terminal: no colour, no progress, the plan once on stdout.
  await ok(['--prefix', prefix, 'remove', 'other', '-y'], { cwd: dir });
  const piped = await kiln(['--prefix', prefix, 'install', 'other', '-y'], { cwd: dir, env: { NO_COLOR: '' } });
  assert.doesNotMatch(piped.stdout + piped.stderr, /\x1b|downloading/);
  assert.equal(piped.stdout.match(/install +other/g)?.length, 1, piped.stdout);
});

test('kiln info of a package that is not installed shows what pacman -Si shows, aligned, with column headers', async (t) => {
  const dir = await tempDir(t);
  const prefix = join(dir, 'prefix');
  await installed(dir, prefix);
  const text = await ok(['--prefix', prefix, 'info', 'other'], { cwd: dir });
  const keyId = (parseJson(await ok(['key', 'show', 'keys/kiln.pub', '--json'], { cwd: dir })) as { keyId: string })
    .keyId;
  assert.match(text, /^other 2\.0 \(not installed\)$/m);
  for (const [label, value] of [
    ['summary', 'The other test package'],
    ['category', 'app-misc'],
    ['license', 'MIT'],
    ['homepage', 'https://example.org/'],
    ['depends', '-'],
    ['download', '\\d'],
    ['installed size', '2 B'],
    ['index', 'remote main, serial 2, published \\d{4}-'],
    ['signed by', `key ${keyId}`],
  ])
    assert.match(text, new RegExp(`^  ${label} +${value}`, 'm'), `${label} in\n${text}`);
  // The values start in one column.
  const columns = new Set(
    text
      .split('\n')
      .filter((line) => /^ {2}[a-z]/.test(line))
      .map((line) => line.search(/(?<=\S {2,})\S/)),
  );
  assert.equal(columns.size, 1, text);
  assert.match(text, /^ {2}VERSION +VARIANT +REMOTE +OPTIONS +TARGET +DOWNLOAD +INSTALLED$/m);
  const data = parseJson(await ok(['--prefix', prefix, 'info', 'other', '--json'], { cwd: dir })) as {
    installed: null;
    available: { summary: string; installedSize: number; index: { signer: string } }[];
  };
  assert.equal(data.installed, null);
  assert.equal(data.available[0]?.summary, 'The other test package');
  assert.equal(data.available[0]?.index.signer, keyId);
});

test('--json prints one envelope with the format version, for data and for errors', async (t) => {
  const dir = await tempDir(t);
  const prefix = join(dir, 'prefix');
  await ok(['--prefix', prefix, 'init'], { cwd: dir });
  const listed = JSON.parse(await ok(['--prefix', prefix, 'list', '--json'], { cwd: dir })) as unknown;
  assert.deepEqual(listed, { formatVersion: 1, data: [] });
  const error = await kiln(['--prefix', prefix, 'info', 'nosuch', '--json'], { cwd: dir });
  assert.equal(error.code, 1);
  assert.equal((JSON.parse(error.stderr) as { formatVersion: number }).formatVersion, 1);
});
