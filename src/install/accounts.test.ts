import * as assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';

import { isKilnError } from '../errors/index.js';
import { accountIds, ensureAccounts, readAccounts } from './accounts.js';

/** A throw-away system root; the host's /etc is never touched. */
async function makeRoot(t: TestContext, files: Readonly<Record<string, string>> = {}): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'kiln-accounts-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  if (Object.keys(files).length > 0) await mkdir(join(root, 'etc'));
  for (const [name, content] of Object.entries(files)) await writeFile(join(root, 'etc', name), content);
  return root;
}

async function etc(root: string, name: string): Promise<string> {
  return readFile(join(root, 'etc', name), 'utf8');
}

async function modeOf(root: string, name: string): Promise<number> {
  return (await stat(join(root, 'etc', name))).mode & 0o7777;
}

const today = (): number => Math.floor(Date.now() / 86_400_000);

describe('readAccounts', () => {
  it('reads missing files as empty tables', async (t) => {
    const root = await makeRoot(t);
    const table = await readAccounts(root);
    assert.equal(table.users.size, 0);
    assert.equal(table.groups.size, 0);
  });

  it('skips blank lines, comments and NIS lines; the first entry of a name wins', async (t) => {
    const root = await makeRoot(t, {
      passwd:
        '# users\nroot:x:0:0:root:/root:/bin/sh\n\n   \n+::::::\n-baduser\n+@netgroup\ndaemon:x:1:1::/:/bin/false\nroot:x:5:5::/:/bin/sh',
      group: 'root:x:0:\n#wheel:x:10:\nwheel:x:10:root,daemon\n+:::\n',
    });
    const table = await readAccounts(root);
    assert.deepEqual(
      [...table.users],
      [
        ['root', { uid: 0, gid: 0 }],
        ['daemon', { uid: 1, gid: 1 }],
      ],
    );
    assert.deepEqual(
      [...table.groups],
      [
        ['root', 0],
        ['wheel', 10],
      ],
    );
  });

  it('reports an unreadable file as E_IO naming it', async (t) => {
    const root = await makeRoot(t, { group: 'root:x:0:\n' });
    await mkdir(join(root, 'etc', 'passwd'));
    await assert.rejects(readAccounts(root), {
      code: 'E_IO',
      message: `cannot read ${join(root, 'etc', 'passwd')}: it is a directory`,
    });
  });

  for (const [file, content, line, fragment] of [
    ['passwd', 'root:x:0:0:root:/root:/bin/sh\n# fine\nbroken:x:1:1\n', 3, 'has 4 fields, expected 7'],
    ['passwd', 'root:x:0:0:root:/root:/bin/sh\nweb:x:abc:1::/:/bin/sh\n', 2, 'has uid "abc"'],
    ['passwd', ':x:1:1::/:/bin/sh\n', 1, 'has an empty user name'],
    ['group', 'root:x:0:\nwheel:x:10\n', 2, 'has 3 fields, expected 4'],
    ['group', 'root:x:0:\n\nwheel:x:99999999999:\n', 3, 'has gid "99999999999"'],
  ] as const) {
    it(`rejects a malformed ${file} naming the file and line ${line} (${fragment})`, async (t) => {
      const root = await makeRoot(t, { [file]: content });
      const path = join(root, 'etc', file);
      await assert.rejects(readAccounts(root), (error: unknown) => {
        assert.ok(isKilnError(error, 'E_ACCOUNT'), `expected E_ACCOUNT, got ${String(error)}`);
        assert.ok(error.message.startsWith(`cannot read ${path}: line ${line} ${fragment}`), error.message);
        assert.match(error.hint ?? '', new RegExp(`line ${line} of`));
        return true;
      });
      await assert.rejects(ensureAccounts(root, [{ name: 'web', system: true }], []), { code: 'E_ACCOUNT' });
    });
  }
});

describe('ensureAccounts', () => {
  it('creates etc/, etc/group and etc/passwd with root in a fresh root', async (t) => {
    const root = await makeRoot(t);
    const result = await ensureAccounts(root, [{ name: 'nginx', system: true }], [{ name: 'www', system: true }]);
    assert.deepEqual(result.createdGroups, ['www', 'nginx']);
    assert.deepEqual(result.createdUsers, ['nginx']);
    assert.equal(await etc(root, 'group'), 'root:x:0:\nwww:x:100:\nnginx:x:101:\n');
    assert.equal(
      await etc(root, 'passwd'),
      'root:x:0:0:root:/root:/bin/sh\nnginx:x:101:101::/nonexistent:/usr/sbin/nologin\n',
    );
    assert.equal(await modeOf(root, 'group'), 0o644);
    assert.equal(await modeOf(root, 'passwd'), 0o644);
    await assert.rejects(stat(join(root, 'etc', 'shadow')), { code: 'ENOENT' });
    assert.deepEqual(result.table, await readAccounts(root));
  });

  it('creates the root account files as soon as any account is asked for', async (t) => {
    const root = await makeRoot(t);
    const result = await ensureAccounts(root, [], [{ name: 'root', system: true }]);
    assert.deepEqual(result.createdGroups, []);
    assert.equal(await etc(root, 'group'), 'root:x:0:\n');
    assert.equal(await etc(root, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  });

  it('does nothing when nothing is asked for', async (t) => {
    const root = await makeRoot(t);
    const result = await ensureAccounts(root, [], []);
    assert.deepEqual(result, { createdUsers: [], createdGroups: [], table: { users: new Map(), groups: new Map() } });
    await assert.rejects(stat(join(root, 'etc')), { code: 'ENOENT' });
  });

  it('takes the lowest free ids, keeps existing bytes and modes, writes home, shell and comment', async (t) => {
    const passwd =
      '# local users\nroot:x:0:0:root:/root:/bin/sh\nold:x:100:100:Caf\u00e9:/:/bin/sh\n+::::::\nsvc1:x:101:102::/:/bin/false\nbob:x:1000:1000::/home/bob:/bin/sh';
    const group = 'root:x:0:\nold:x:100:\nsvc1:x:102:\nusers:x:1000:bob\n';
    const root = await makeRoot(t, { passwd, group });
    await chmod(join(root, 'etc', 'group'), 0o664);
    await chmod(join(root, 'etc', 'passwd'), 0o640);
    const result = await ensureAccounts(
      root,
      [
        { name: 'daemon2', system: true },
        { name: 'alice', system: false, home: 'home/alice', shell: '/bin/bash', comment: 'Alice L\u00fcdde' },
      ],
      [],
    );
    assert.deepEqual(result.createdGroups, ['daemon2', 'alice']);
    assert.deepEqual(result.createdUsers, ['daemon2', 'alice']);
    // gid 101 is the first free one; uid 101 is taken, so daemon2 gets the lowest free uid, 102.
    assert.equal(await etc(root, 'group'), `${group}daemon2:x:101:\nalice:x:1001:\n`);
    assert.equal(
      await etc(root, 'passwd'),
      `${passwd}\ndaemon2:x:102:101::/nonexistent:/usr/sbin/nologin\nalice:x:1001:1001:Alice L\u00fcdde:/home/alice:/bin/bash\n`,
    );
    assert.equal(await modeOf(root, 'group'), 0o664);
    assert.equal(await modeOf(root, 'passwd'), 0o640);
    assert.deepEqual(result.table.users.get('daemon2'), { uid: 102, gid: 101 });
    assert.deepEqual(result.table, await readAccounts(root));
  });

  it('keeps bytes that are not UTF-8 as they are', async (t) => {
    const passwd = Buffer.concat([Buffer.from('root:x:0:0:'), Buffer.from([0xe9]), Buffer.from(':/root:/bin/sh\n')]);
    const root = await makeRoot(t, { group: 'root:x:0:\n' });
    await writeFile(join(root, 'etc', 'passwd'), passwd);
    await ensureAccounts(root, [{ name: 'svc', system: true }], []);
    const after = await readFile(join(root, 'etc', 'passwd'));
    assert.ok(after.subarray(0, passwd.length).equals(passwd));
  });

  it('prefers uid = gid when that uid is free, and falls back to the lowest free uid', async (t) => {
    const root = await makeRoot(t, {
      group: 'root:x:0:\ng100:x:100:\ng101:x:101:\ng102:x:102:\ng103:x:103:\ng104:x:104:\n',
      passwd: 'root:x:0:0:root:/root:/bin/sh\nu105:x:105:0::/:/bin/sh\n',
    });
    const result = await ensureAccounts(
      root,
      [
        { name: 'first', system: true },
        { name: 'second', system: true },
      ],
      [],
    );
    // first: gid 105 (lowest free gid), uid 105 taken → lowest free uid 100.
    // second: gid 106, uid 106 free → 106 although 101 is lower.
    assert.deepEqual(result.table.users.get('first'), { uid: 100, gid: 105 });
    assert.deepEqual(result.table.users.get('second'), { uid: 106, gid: 106 });
  });

  it('does not take uid = gid outside the range of the user', async (t) => {
    const root = await makeRoot(t, {
      group: 'root:x:0:\nwheel:x:10:\nstaff:x:1005:\n',
      passwd: 'root:x:0:0:root:/root:/bin/sh\n',
    });
    const result = await ensureAccounts(
      root,
      [
        { name: 'op', group: 'wheel', system: true },
        { name: 'sys', group: 'staff', system: true },
      ],
      [],
    );
    assert.deepEqual(result.createdGroups, []);
    assert.deepEqual(result.table.users.get('op'), { uid: 100, gid: 10 });
    assert.deepEqual(result.table.users.get('sys'), { uid: 101, gid: 1005 });
  });

  it('gives a user an explicit existing group and creates no group for it', async (t) => {
    const group = 'root:x:0:\nusers:x:100:\n';
    const root = await makeRoot(t, { group, passwd: 'root:x:0:0:root:/root:/bin/sh\n' });
    const result = await ensureAccounts(root, [{ name: 'git', group: 'users', system: true }], []);
    assert.deepEqual(result.createdGroups, []);
    assert.deepEqual(result.createdUsers, ['git']);
    assert.equal(await etc(root, 'group'), group);
    assert.match(await etc(root, 'passwd'), /\ngit:x:100:100::\/nonexistent:\/usr\/sbin\/nologin\n$/);
  });

  it('creates an explicit primary group that does not exist, before the user', async (t) => {
    const root = await makeRoot(t);
    const result = await ensureAccounts(
      root,
      [{ name: 'git', group: 'vcs', system: false }],
      [{ name: 'www', system: true }],
    );
    assert.deepEqual(result.createdGroups, ['www', 'vcs']);
    assert.deepEqual(result.table.groups.get('vcs'), 1000);
    assert.deepEqual(result.table.users.get('git'), { uid: 1000, gid: 1000 });
  });

  it('never modifies an existing account', async (t) => {
    const passwd = 'root:x:0:0:root:/root:/bin/sh\nnginx:x:33:33:custom:/srv:/bin/sh\n';
    const root = await makeRoot(t, { passwd, group: 'root:x:0:\n' });
    const result = await ensureAccounts(
      root,
      [{ name: 'nginx', system: true, home: 'var/www' }],
      [{ name: 'www', system: true }],
    );
    assert.deepEqual(result.createdUsers, []);
    // The existing user's primary group is its own business: no "nginx" group is made.
    assert.deepEqual(result.createdGroups, ['www']);
    assert.equal(await etc(root, 'passwd'), passwd);
    assert.deepEqual(result.table.users.get('nginx'), { uid: 33, gid: 33 });
  });

  it('appends locked entries to shadow and gshadow when they exist, keeping their modes', async (t) => {
    const root = await makeRoot(t, {
      passwd: 'root:x:0:0:root:/root:/bin/sh\n',
      group: 'root:x:0:\n',
      shadow: 'root:$6$hash:19000:0:99999:7:::\n',
      gshadow: 'root:*::\n',
    });
    await chmod(join(root, 'etc', 'shadow'), 0o600);
    await chmod(join(root, 'etc', 'gshadow'), 0o640);
    const before = today();
    await ensureAccounts(root, [{ name: 'redis', system: true }], [{ name: 'cache', system: true }]);
    const after = today();
    const shadow = await etc(root, 'shadow');
    const match = /^root:\$6\$hash:19000:0:99999:7:::\nredis:!:(\d+)::::::\n$/.exec(shadow);
    assert.ok(match !== null, shadow);
    const days = Number(match[1]);
    assert.ok(days >= before && days <= after, `${days} is not today`);
    assert.equal(await etc(root, 'gshadow'), 'root:*::\ncache:!::\nredis:!::\n');
    assert.equal(await modeOf(root, 'shadow'), 0o600);
    assert.equal(await modeOf(root, 'gshadow'), 0o640);
  });

  it('replaces a shadow entry left behind for an account it creates, instead of duplicating it', async (t) => {
    const root = await makeRoot(t, {
      passwd: 'root:x:0:0:root:/root:/bin/sh\n',
      group: 'root:x:0:\n',
      shadow: 'root:*:1::::::\nredis:$6$stale:1::::::\n',
      gshadow: 'redis:!::\nroot:*::\n',
    });
    await ensureAccounts(root, [{ name: 'redis', system: true }], []);
    assert.match(await etc(root, 'shadow'), /^root:\*:1::::::\nredis:!:\d+::::::\n$/);
    assert.equal(await etc(root, 'gshadow'), 'root:*::\nredis:!::\n');
  });

  it('is idempotent: a second run creates and writes nothing', async (t) => {
    const root = await makeRoot(t, { shadow: 'root:*:1::::::\n', gshadow: 'root:*::\n' });
    const users = [
      { name: 'a', system: true },
      { name: 'b', system: false, group: 'a' },
    ] as const;
    const groups = [{ name: 'g', system: false }] as const;
    const first = await ensureAccounts(root, users, groups);
    assert.deepEqual(first.createdUsers, ['a', 'b']);
    const names = ['passwd', 'group', 'shadow', 'gshadow'];
    const snapshot = await Promise.all(
      names.map(async (name) => [await etc(root, name), (await stat(join(root, 'etc', name))).ino]),
    );
    const second = await ensureAccounts(root, users, groups);
    assert.deepEqual(second.createdUsers, []);
    assert.deepEqual(second.createdGroups, []);
    assert.deepEqual(second.table, first.table);
    const again = await Promise.all(
      names.map(async (name) => [await etc(root, name), (await stat(join(root, 'etc', name))).ino]),
    );
    assert.deepEqual(again, snapshot);
  });

  it('fails with E_ACCOUNT when the system gid range is exhausted, writing nothing', async (t) => {
    const lines = ['root:x:0:'];
    for (let gid = 100; gid <= 999; gid++) lines.push(`g${gid}:x:${gid}:`);
    const group = `${lines.join('\n')}\n`;
    const root = await makeRoot(t, { group, passwd: 'root:x:0:0:root:/root:/bin/sh\n' });
    await assert.rejects(
      ensureAccounts(
        root,
        [],
        [
          { name: 'ok', system: false },
          { name: 'full', system: true },
        ],
      ),
      (error: unknown) => {
        assert.ok(isKilnError(error, 'E_ACCOUNT'), String(error));
        assert.equal(
          error.message,
          `cannot create system group full in ${join(root, 'etc', 'group')}: no free gid in 100..999`,
        );
        assert.ok(error.hint !== undefined);
        return true;
      },
    );
    assert.equal(await etc(root, 'group'), group);
  });

  it('fails with E_ACCOUNT when the uid range is exhausted, before writing the group', async (t) => {
    const lines = ['root:x:0:0:root:/root:/bin/sh'];
    for (let uid = 100; uid <= 999; uid++) lines.push(`u${uid}:x:${uid}:0::/:/bin/sh`);
    const passwd = `${lines.join('\n')}\n`;
    const root = await makeRoot(t, { passwd, group: 'root:x:0:\n' });
    await assert.rejects(ensureAccounts(root, [{ name: 'late', system: true }], []), {
      code: 'E_ACCOUNT',
      message: `cannot create system user late in ${join(root, 'etc', 'passwd')}: no free uid in 100..999`,
    });
    assert.equal(await etc(root, 'group'), 'root:x:0:\n');
    assert.equal(await etc(root, 'passwd'), passwd);
  });

  for (const [label, users, groups, fragment] of [
    ['an invalid user name', [{ name: 'Bad', system: true }], [], '"Bad" is not a valid user name'],
    ['an invalid group name', [], [{ name: 'a:b', system: true }], '"a:b" is not a valid group name'],
    ['an invalid primary group', [{ name: 'ok', group: '9x', system: true }], [], '"9x" is not a valid group name'],
    ['a comment with ":"', [{ name: 'ok', comment: 'a:b', system: true }], [], 'its comment "a:b" contains ":"'],
    ['a shell with a line break', [{ name: 'ok', shell: '/bin/sh\nevil', system: true }], [], 'its shell'],
  ] as const) {
    it(`rejects ${label} with E_ACCOUNT before touching anything`, async (t) => {
      const root = await makeRoot(t);
      await assert.rejects(ensureAccounts(root, users, groups), (error: unknown) => {
        assert.ok(isKilnError(error, 'E_ACCOUNT'), String(error));
        assert.ok(error.message.startsWith('cannot create '), error.message);
        assert.ok(error.message.includes(fragment), error.message);
        return true;
      });
      await assert.rejects(stat(join(root, 'etc')), { code: 'ENOENT' });
    });
  }
});

describe('accountIds', () => {
  const table = {
    users: new Map([['nginx', { uid: 101, gid: 101 }]]),
    groups: new Map([
      ['www', 100],
      ['nginx', 101],
    ]),
  };

  it('looks up both names', () => {
    assert.deepEqual(accountIds(table, 'nginx', 'www', 'var/log/nginx'), { uid: 101, gid: 100 });
  });

  it('names the unknown user and the path', () => {
    assert.throws(
      () => accountIds(table, 'ghost', 'www', 'var/lib/ghost'),
      (error: unknown) => {
        assert.ok(isKilnError(error, 'E_ACCOUNT'));
        assert.equal(
          error.message,
          'cannot apply owner ghost to var/lib/ghost: no such user in etc/passwd of the system root',
        );
        assert.match(error.hint ?? '', /useradd ghost/);
        return true;
      },
    );
  });

  it('names the unknown group and the path', () => {
    assert.throws(
      () => accountIds(table, 'nginx', 'ghosts', 'var/lib/ghost'),
      (error: unknown) => {
        assert.ok(isKilnError(error, 'E_ACCOUNT'));
        assert.equal(
          error.message,
          'cannot apply group ghosts to var/lib/ghost: no such group in etc/group of the system root',
        );
        assert.match(error.hint ?? '', /groupadd ghosts/);
        return true;
      },
    );
  });
});
