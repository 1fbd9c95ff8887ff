import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withPrefixOption } from './prefixInHints.js';

describe('withPrefixOption', () => {
  it('adds the prefix, quoted and absolute, to suggested prefix commands only', () => {
    assert.equal(
      withPrefixOption('run "kiln sync main", then "kiln install nginx"', '/srv/my stack'),
      `run "kiln --prefix '/srv/my stack' sync main", then "kiln --prefix '/srv/my stack' install nginx"`,
    );
    assert.equal(
      withPrefixOption('kiln repo commit DIR; kiln key show K', '/p'),
      'kiln repo commit DIR; kiln key show K',
    );
    assert.equal(withPrefixOption('kiln --prefix /x init', '/p'), 'kiln --prefix /x init');
    assert.match(withPrefixOption('kiln list', 'rel'), /^kiln --prefix \/\S+\/rel list$/);
  });
});
