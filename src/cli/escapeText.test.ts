import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import { escapeForTerminal, escapeJsonText } from './escapeText.js';

describe('escapeForTerminal', () => {
  it('shows controls, C1 and bidirectional characters escaped, and keeps lines, tabs and letters', () => {
    assert.equal(escapeForTerminal('usr/bin/\u009b31mred\u009b0m'), 'usr/bin/\\x9b31mred\\x9b0m');
    assert.equal(escapeForTerminal('a\u001b[2Jb\u0007\u007f'), 'a\\x1b[2Jb\\x07\\x7f');
    assert.equal(
      escapeForTerminal('evil\u202egnp.exe \u2066x\u2069 \u2028'),
      'evil\\u{202e}gnp.exe \\u{2066}x\\u{2069} \\u{2028}',
    );
    assert.equal(escapeForTerminal('line one\n\tcafé ✓ \r'), 'line one\n\tcafé ✓ \\x0d');
  });
});

describe('escapeJsonText', () => {
  it('escapes what JSON.stringify leaves raw, and parses back to the same data', () => {
    const data = { path: 'a\u009bb\u0085c\u202ed\u007fe' };
    const text = escapeJsonText(JSON.stringify(data));
    assert.doesNotMatch(text, /[\u007f-\u009f\u202e]/);
    assert.deepEqual(JSON.parse(text), data);
  });
});
