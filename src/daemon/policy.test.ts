import * as assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isKilnError } from '../errors/index.js';
import type { Caller } from './policy.js';
import { callerNamed, callerOf, decide, emptyPolicy, globMatch, parsePolicy } from './policy.js';

const POLICY = `
[[rule]]
effect = "deny"
users = ["mallory"]
verbs = ["*"]

[[rule]]
groups = ["staff"]
verbs = ["install", "remove"]
remotes = ["main"]

[[rule]]
users = ["*"]
verbs = ["sync", "upgrade"]

[[rule]]
users = ["dev", "1234"]
verbs = ["install"]
packages = ["python3*", "lua"]

[[rule]]
effect = "deny"
users = ["*"]
verbs = ["add-remote"]
`;

const policy = parsePolicy(POLICY, '/etc/kiln/policy.toml');
const staff: Caller = { uid: 1001, user: 'alice', groups: ['alice', 'staff'] };
const dev: Caller = { uid: 1002, user: 'dev', groups: ['dev'] };
const nobody: Caller = { uid: 65534, user: 'nobody', groups: ['nogroup'] };

describe('kilnd policy', () => {
  it('the first matching rule decides, and the decision names it', () => {
    const allowed = decide(policy, staff, { verb: 'install', packages: ['nginx'], remote: 'main' });
    assert.deepEqual([allowed.allowed, allowed.rule], [true, 2]);
    assert.match(
      allowed.reason,
      /alice \(uid 1001\) may install nginx from main: rule 2 of \/etc\/kiln\/policy.toml allows it/,
    );
    const mallory: Caller = { uid: 1003, user: 'mallory', groups: ['staff'] };
    const denied = decide(policy, mallory, { verb: 'sync' });
    assert.deepEqual([denied.allowed, denied.rule], [false, 1], 'a deny rule before the allow rules wins');
  });

  it('restricts by remote and package; a request of several packages needs each', () => {
    assert.equal(decide(policy, staff, { verb: 'install', packages: ['nginx'], remote: 'other' }).allowed, false);
    assert.equal(
      decide(policy, staff, { verb: 'install', packages: ['nginx'] }).allowed,
      true,
      'before the plan the remote is not known: it is checked per package once it is',
    );
    assert.equal(decide(policy, dev, { verb: 'install', packages: ['python3-dev', 'lua'] }).allowed, true);
    const mixed = decide(policy, dev, { verb: 'install', packages: ['lua', 'nginx'] });
    assert.equal(mixed.allowed, false);
    assert.match(mixed.reason, /may not install nginx: no rule .* allows it/);
    assert.equal(
      decide(policy, { ...nobody, uid: 1234, user: 'x' }, { verb: 'install', packages: ['lua'] }).allowed,
      true,
      'a numeric uid names a user',
    );
  });

  it('denies by default; root may do anything; everyone may sync and upgrade here', () => {
    const none = decide(policy, nobody, { verb: 'remove', packages: ['nginx'] });
    assert.deepEqual([none.allowed, none.rule], [false, -1]);
    assert.match(none.reason, /by default only root may change the system/);
    assert.equal(decide(emptyPolicy('p'), nobody, { verb: 'sync' }).allowed, false);
    assert.equal(
      decide(emptyPolicy('p'), { uid: 0, user: 'root', groups: ['root'] }, { verb: 'add-remote', remote: 'x' }).allowed,
      true,
    );
    assert.equal(decide(policy, nobody, { verb: 'upgrade' }).allowed, true);
    assert.equal(decide(policy, staff, { verb: 'add-remote', remote: 'evil' }).rule, 5);
  });

  it('refuses a malformed policy with the rule and field named', () => {
    const cases: [string, RegExp][] = [
      ['[[rule]]\nverbs = ["install"]\n', /rule 1 names neither users nor groups/],
      ['[[rule]]\nusers = ["a"]\n', /rule 1 names no verbs/],
      ['[[rule]]\nusers = ["a"]\nverbs = ["format-disk"]\n', /rule 1.verbs\[0\]/],
      ['[[rule]]\nusers = ["a"]\nverbs = ["*"]\neffect = "maybe"\n', /rule 1.effect/],
      ['[[rule]]\nusers = ["a"]\nverbs = ["*"]\nwho = "x"\n', /is not a known field/],
      ['[[rule]]\nusers = []\nverbs = ["*"]\n', /is empty/],
      ['[[rule]\n', /not valid TOML/],
    ];
    for (const [text, pattern] of cases)
      assert.throws(
        () => parsePolicy(text, 'p.toml'),
        (error: unknown) => isKilnError(error) && error.code === 'E_POLICY' && pattern.test(error.message),
        text,
      );
  });

  it('globs: * and ? only', () => {
    assert.ok(globMatch('py*', 'python3'));
    assert.ok(globMatch('lu?', 'lua'));
    assert.ok(!globMatch('lua', 'lua5'));
    assert.ok(!globMatch('a.c', 'abc'), 'a dot is a dot');
  });
});

describe('callers from the account database', () => {
  const root = mkdtemp(join(tmpdir(), 'kiln-policy-'));
  after(async () => rm(await root, { recursive: true, force: true }));

  it('names the user and its primary and supplementary groups', async () => {
    const dir = await root;
    await mkdir(join(dir, 'etc'), { recursive: true });
    await writeFile(join(dir, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\nalice:x:1001:1001::/home/alice:/bin/sh\n');
    await writeFile(join(dir, 'etc', 'group'), 'root:x:0:\nalice:x:1001:\nstaff:x:50:bob,alice\nwheel:x:10:bob\n');
    assert.deepEqual(await callerOf(1001, 1001, dir), { uid: 1001, user: 'alice', groups: ['alice', 'staff'] });
    assert.deepEqual(await callerNamed('alice', dir), { uid: 1001, user: 'alice', groups: ['alice', 'staff'] });
    assert.deepEqual(await callerOf(4242, 4242, dir), { uid: 4242, user: '4242', groups: [] }, 'an unknown uid');
    await assert.rejects(callerNamed('zed', dir), /no such user/);
  });
});
