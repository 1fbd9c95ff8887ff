import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseRemoteUrl, redactUrl, resolveRemotePath } from './remoteUrl.js';

describe('parseRemoteUrl', () => {
  it('accepts file, http and https URLs', () => {
    assert.equal(parseRemoteUrl('file:///srv/repo').href, 'file:///srv/repo');
    assert.equal(parseRemoteUrl('http://127.0.0.1:8080/repo/').href, 'http://127.0.0.1:8080/repo/');
    assert.equal(parseRemoteUrl('https://pkg.example.org/main').href, 'https://pkg.example.org/main');
    assert.equal(parseRemoteUrl('https://me:token@pkg.example.org/main/').password, 'token');
  });

  it('turns a bare absolute path into a file URL', () => {
    assert.equal(parseRemoteUrl('/srv/repo').href, 'file:///srv/repo');
    assert.equal(parseRemoteUrl('/srv/my repo#1/').href, 'file:///srv/my%20repo%231/');
  });

  it('rejects other schemes, relative paths and text that is not a URL', () => {
    assert.throws(() => parseRemoteUrl('ftp://host/repo'), {
      code: 'E_REMOTE_URL',
      message: 'cannot use remote URL ftp://host/repo: scheme "ftp:" is not supported',
    });
    assert.throws(() => parseRemoteUrl('repo'), {
      code: 'E_REMOTE_URL',
      message: 'cannot use remote URL "repo": it is neither a URL nor an absolute path',
    });
    assert.throws(() => parseRemoteUrl('./repo'), { code: 'E_REMOTE_URL' });
    assert.throws(() => parseRemoteUrl(''), { code: 'E_REMOTE_URL' });
    assert.throws(() => parseRemoteUrl('http://'), {
      code: 'E_REMOTE_URL',
      message: 'cannot use remote URL "http://": it is not a valid URL',
    });
    assert.throws(() => parseRemoteUrl('file://server/share'), {
      code: 'E_REMOTE_URL',
      message: /a file URL cannot name a host/,
    });
  });

  it('rejects a query or a fragment, naming the URL', () => {
    assert.throws(() => parseRemoteUrl('https://host/repo?x=1'), {
      code: 'E_REMOTE_URL',
      message: 'cannot use remote URL https://host/repo?x=1: it has a query or fragment',
    });
    assert.throws(() => parseRemoteUrl('https://host/repo#top'), { code: 'E_REMOTE_URL' });
    assert.throws(() => parseRemoteUrl('https://host/repo?'), { code: 'E_REMOTE_URL' });
    assert.throws(() => parseRemoteUrl('https://host/repo#'), { code: 'E_REMOTE_URL' });
  });

  it('never puts credentials in its messages', () => {
    for (const text of ['https://me:s3cret@host/repo?x=1', 'gopher://me:s3cret@host/', 'https://me:s3cret@ho st/']) {
      assert.throws(
        () => parseRemoteUrl(text),
        (error: Error) => {
          assert.ok(!error.message.includes('s3cret'), error.message);
          assert.ok(error.message.includes('ho'), error.message);
          return true;
        },
      );
    }
  });
});

describe('redactUrl', () => {
  it('removes the user name and password', () => {
    assert.equal(redactUrl(new URL('https://me:token@host/repo/')), 'https://host/repo/');
    assert.equal(redactUrl('http://token@host:8080/a/b'), 'http://host:8080/a/b');
    assert.equal(redactUrl('https://host/repo/'), 'https://host/repo/');
    assert.equal(redactUrl('file:///srv/repo'), 'file:///srv/repo');
  });

  it('leaves the URL it was given alone', () => {
    const url = new URL('https://me:token@host/');
    redactUrl(url);
    assert.equal(url.password, 'token');
  });

  it('redacts text that does not parse as a URL', () => {
    assert.equal(redactUrl('https://me:token@ho st/x'), 'https://ho st/x');
    assert.equal(redactUrl('not a url'), 'not a url');
  });
});

describe('resolveRemotePath', () => {
  it('resolves under the base directory, with or without a trailing slash', () => {
    const expected = 'https://host/repo/packages/app/zlib/zlib-1.3-abc.kpkg';
    assert.equal(resolveRemotePath(new URL('https://host/repo'), 'packages/app/zlib/zlib-1.3-abc.kpkg').href, expected);
    assert.equal(
      resolveRemotePath(new URL('https://host/repo/'), 'packages/app/zlib/zlib-1.3-abc.kpkg').href,
      expected,
    );
    assert.equal(resolveRemotePath(new URL('https://host'), 'index.json').href, 'https://host/index.json');
    assert.equal(
      resolveRemotePath(new URL('file:///srv/repo'), 'index.json.minisig').href,
      'file:///srv/repo/index.json.minisig',
    );
  });

  it('percent-encodes each segment, so that no name is read as URL syntax', () => {
    assert.equal(
      resolveRemotePath(new URL('https://host/r/'), 'a b/c?d#e%f/g:h+i').href,
      'https://host/r/a%20b/c%3Fd%23e%25f/g%3Ah%2Bi',
    );
    assert.equal(resolveRemotePath(new URL('https://host/r/'), '%2e%2e/x').href, 'https://host/r/%252e%252e/x');
  });

  it('keeps the credentials of the base', () => {
    assert.equal(
      resolveRemotePath(new URL('https://me:token@host/r'), 'index.json').href,
      'https://me:token@host/r/index.json',
    );
  });

  it('refuses paths that would leave the remote', () => {
    for (const path of ['../etc/passwd', 'a/../../b', '/index.json', 'a//b', './a', 'a/', '', 'a\0b']) {
      assert.throws(
        () => resolveRemotePath(new URL('https://me:token@host/r/'), path),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'E_REMOTE_URL');
          assert.ok(!error.message.includes('token'), error.message);
          return true;
        },
      );
    }
  });
});
