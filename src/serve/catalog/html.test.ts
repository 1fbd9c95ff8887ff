import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { html, packageHref, treeHref } from './html.js';

test('html: interpolated text is escaped, markup made by html is not', () => {
  const hostile = `<script>alert("x")</script>&'`;
  assert.equal(
    html`<p title="${hostile}">${hostile}</p>`.text,
    '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>',
  );
  assert.equal(
    html`<ul>${['a', '<b>'].map((item) => html`<li>${item}</li>`)}</ul>`.text,
    '<ul><li>a</li><li>&lt;b&gt;</li></ul>',
  );
  assert.equal(html`${undefined}${false}${0}`.text, '0');
});

test('treeHref and packageHref encode each segment', () => {
  assert.equal(treeHref('packages/a b/x?y#z.kpkg'), '/packages/a%20b/x%3Fy%23z.kpkg');
  assert.equal(packageHref('c++'), '/package/c%2B%2B');
  assert.equal(packageHref('n', '1.0-r1', 'abc'), '/package/n?version=1.0-r1&variant=abc');
});
