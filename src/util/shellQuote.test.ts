import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';

import { shellLine, shellQuote } from './shellQuote.js';

describe('shellQuote', () => {
  it('leaves plain words alone', () => {
    assert.equal(shellQuote('kiln'), 'kiln');
    assert.equal(shellQuote('/srv/stack-1.0/bin'), '/srv/stack-1.0/bin');
    assert.equal(shellQuote('--prefix=/x'), '--prefix=/x');
  });

  it('quotes what a shell would change, and the shell reads it back as it was', () => {
    const words = [
      '',
      'my stack',
      'nginx[+uwsgi]',
      'zlib>=1.3 <2',
      "it's",
      '$HOME',
      '*',
      'a\nb',
      '~/x',
      '!',
      'semi;colon',
      '`id`',
      'tab\there',
      '#hash',
      'ünïcode',
    ];
    for (const word of words) assert.notEqual(shellQuote(word), word === '' ? '' : word, JSON.stringify(word));
    // The real shell: printf each argument on its own line, NUL-separated.
    const printed = execFileSync('sh', ['-c', `printf '%s\\0' ${shellLine(words)}`])
      .toString('utf8')
      .split('\0')
      .slice(0, -1);
    assert.deepEqual(printed, words);
  });
});
