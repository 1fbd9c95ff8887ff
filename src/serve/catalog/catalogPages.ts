/**
 * The catalog's HTML pages, rendered on the server from a `Catalog`: they work
 * without JavaScript (catalog.js only adds search-as-you-type and a live
 * expiry countdown). Every value from the index is escaped (html.ts).
 */
import { fullVersion } from '../../format/metadata.js';
import type { ListedFile } from '../../repo/fileList.js';
import type { IndexEntry } from '../../repo/indexFormat.js';
import { entryKey } from '../../repo/indexFormat.js';
import { findAdvisories } from '../../advisory/index.js';
import { formatBytes } from '../../util/formatBytes.js';
import { ASSETS } from './catalogAssets.js';
import type { HistoryPage, HistoryEntry } from './catalogHistory.js';
import type { Markup } from './html.js';
import { html, packageHref, treeHref } from './html.js';
import type { Catalog, CatalogName, CatalogVersion } from './loadCatalog.js';
import { SEARCH_PAGE, searchCatalog } from './searchCatalog.js';

function layout(catalog: Catalog, title: string, body: Markup, query = ''): string {
  const repo = catalog.index.name;
  return `<!doctype html>\n${
    html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${repo}</title><link rel="icon" href="${ASSETS.icon.href}" type="image/svg+xml"><link rel="stylesheet" href="${ASSETS.css.href}"><script src="${ASSETS.js.href}" defer></script></head>
<body><header><a class="brand" href="/">${repo}</a>
<form class="search" action="/search" method="get" role="search"><input type="search" name="q" value="${query}" placeholder="Search packages" aria-label="Search packages" autocomplete="off" id="q"><button type="submit">Search</button></form>
<nav><a href="/search">Packages</a> <a href="/history">History</a></nav></header>
<main>${body}</main>
<footer>Repository ${repo}, serial ${catalog.index.serial}, signed by key ${catalog.signer}. <a href="/api/v1/repository">JSON API</a></footer>
</body></html>`.text
  }\n`;
}

/** `in 29 days, 4 hours` or `3 hours ago`: the time from `now` to `when`, in its two largest units. */
export function relativeTime(when: Date, now: Date): string {
  const seconds = Math.round((when.getTime() - now.getTime()) / 1000);
  const units: [string, number][] = [
    ['day', 86400],
    ['hour', 3600],
    ['minute', 60],
    ['second', 1],
  ];
  let left = Math.abs(seconds);
  const parts: string[] = [];
  for (const [unit, size] of units) {
    const count = Math.floor(left / size);
    left -= count * size;
    if (count > 0 || (parts.length === 0 && size === 1)) parts.push(`${count} ${unit}${count === 1 ? '' : 's'}`);
    if (parts.length === 2) break;
  }
  const text = parts.join(', ');
  return seconds >= 0 ? `in ${text}` : `${text} ago`;
}

export function homePage(catalog: Catalog, now: Date): string {
  const index = catalog.index;
  const expires = new Date(index.expires);
  const expired = expires.getTime() <= now.getTime();
  const body = html`<h1>${index.name}</h1>
<dl class="facts">
<dt>Serial</dt><dd id="serial">${index.serial}</dd>
<dt>Created</dt><dd><time datetime="${index.created}">${index.created}</time></dd>
<dt>Expires</dt><dd><time datetime="${index.expires}">${index.expires}</time>, <span class="${expired ? 'countdown expired' : 'countdown'}" data-expires="${index.expires}">${expired ? `expired ${relativeTime(expires, now)}` : relativeTime(expires, now)}</span></dd>
<dt>Packages</dt><dd><a href="/search">${catalog.names.length} names</a>, ${index.packages.length} package files</dd>
</dl>
<h2>Signing keys</h2>
<table class="keys"><thead><tr><th>Key id</th><th>Public key (minisign)</th></tr></thead><tbody>
${catalog.keys.map(
  (key) =>
    html`<tr><td><a href="${treeHref(`keys/${key.keyId}.pub`)}"><code>${key.keyId}</code></a>${key.keyId === catalog.signer ? html` <span class="tag">signs this serial</span>` : ''}</td><td><code class="wrap">${key.publicKey}</code></td></tr>`,
)}
</tbody></table>
<p class="muted">Check the index yourself: <code>minisign -Vm index.json -p keys/${catalog.signer}.pub</code></p>`;
  return layout(catalog, 'Home', body);
}

export function searchPage(catalog: Catalog, query: string, offset: number): string {
  const found = searchCatalog(catalog.names, query, offset);
  const more = offset + SEARCH_PAGE < found.total;
  const heading = query.trim() === '' ? 'All packages' : `Packages matching “${query.trim()}”`;
  const pageLink = (start: number) => `/search?q=${encodeURIComponent(query)}&offset=${start}`;
  const body = html`<h1>${heading}</h1>
<p class="muted" id="count">${found.total === 0 ? 'No package matches.' : `${found.total} ${found.total === 1 ? 'name' : 'names'}${found.total > SEARCH_PAGE ? `, ${offset + 1}–${Math.min(offset + SEARCH_PAGE, found.total)} shown` : ''}`}</p>
<ul class="results" id="results">${found.results.map(resultRow)}</ul>
<p class="pager">${offset > 0 ? html`<a rel="prev" href="${pageLink(Math.max(0, offset - SEARCH_PAGE))}">Previous</a> ` : ''}${more ? html`<a rel="next" href="${pageLink(offset + SEARCH_PAGE)}">Next</a>` : ''}</p>`;
  return layout(catalog, heading, body, query);
}

function resultRow(item: CatalogName): Markup {
  const newest = item.versions[0] as CatalogVersion;
  return html`<li><a href="${packageHref(item.name)}">${item.name}</a> <span class="version">${newest.version}</span> <span class="muted">${item.category}</span><br><span class="summary">${item.summary}</span></li>`;
}

export interface Selection {
  version?: string;
  variant?: string;
}

/** The entry a package page shows in detail: the one asked for, else the newest version's first variant. */
export function selectedEntry(item: CatalogName, selection: Selection): IndexEntry {
  for (const version of item.versions)
    if (version.version === selection.version)
      for (const entry of version.variants) if (entry.variant === selection.variant) return entry;
  return (item.versions[0] as CatalogVersion).variants[0] as IndexEntry;
}

function optionsText(options: Record<string, boolean>): string {
  const names = Object.keys(options).sort();
  return names.length === 0 ? '—' : names.map((name) => `${options[name] ? '+' : '-'}${name}`).join(' ');
}

export interface PublishedAt {
  serial: number;
  time: string;
}

export function packagePage(
  catalog: Catalog,
  item: CatalogName,
  selected: IndexEntry,
  files: ListedFile[] | undefined,
  published: PublishedAt | undefined,
): string {
  const selectedKey = entryKey(selected);
  const rows = item.versions.flatMap((version) =>
    version.variants.map((entry, at) => {
      const current = entryKey(entry) === selectedKey;
      return html`<tr${current ? html` class="selected" aria-current="true"` : ''}>${at === 0 ? html`<th rowspan="${version.variants.length}" scope="rowgroup">${version.version}</th>` : ''}
<td><a class="variant" href="${packageHref(item.name, version.version, entry.variant)}"><code>${entry.variant}</code></a></td>
<td><code>${optionsText(entry.options)}</code></td>
<td>${entry.target.arch} <code>${entry.target.cpu}</code></td>
<td>${entry.target.libc} ≥ ${entry.target.libcVersion}</td>
<td>${formatBytes(entry.size)}<br><span class="muted">${formatBytes(entry.installedSize)} installed</span></td>
<td>${entry.license}</td>
<td><code>${catalog.signer}</code></td>
<td>${advisoryBadges(catalog, entry)}</td>
<td><a class="download" href="${treeHref(entry.path)}" download>download</a><br><code class="sha256" title="sha256">${entry.sha256}</code></td></tr>`;
    }),
  );
  const requiredBy = catalog.reverse.get(item.name) ?? [];
  const nameLink = (name: string) =>
    catalog.byName.has(name) ? html`<a href="${packageHref(name)}">${name}</a>` : html`<span>${name}</span>`;
  const providerLinks = (soname: string) => {
    const names = (catalog.providers.get(soname) ?? []).filter((name) => name !== item.name);
    return names.length === 0
      ? ''
      : html` <span class="muted">from</span> ${names.map((name, i) => html`${i > 0 ? ', ' : ''}${nameLink(name)}`)}`;
  };
  const body = html`<h1>${item.name} <span class="version">${selected.version}${selected.revision > 0 ? `-r${selected.revision}` : ''}</span></h1>
<p class="summary">${item.summary}</p>
<dl class="facts"><dt>Category</dt><dd>${item.category}</dd>
<dt>Homepage</dt><dd>${item.homepage === '' ? '—' : html`<a href="${safeUrl(item.homepage)}" rel="nofollow noopener">${item.homepage}</a>`}</dd>
<dt>License</dt><dd>${item.license}</dd>
<dt>Published</dt><dd>${published === undefined ? html`<span class="muted">serial ${catalog.index.serial} or earlier</span>` : html`serial ${published.serial}, <time datetime="${published.time}">${published.time}</time>`}</dd></dl>
<h2>Versions and variants</h2>
<div class="scroll"><table class="variants"><thead><tr><th>Version</th><th>Variant</th><th>Options</th><th>CPU</th><th>C library</th><th>Size</th><th>License</th><th>Signer</th><th>Advisories</th><th>Package (sha256)</th></tr></thead>
<tbody>${rows}</tbody></table></div>
<section class="selected-variant" id="selected" data-variant="${selected.variant}">
<h2>Variant <code>${selected.variant}</code> of ${fullVersion(selected)}</h2>
<div class="columns">
<div><h3>Depends on</h3>${selected.depends.length === 0 ? html`<p class="muted">nothing</p>` : html`<ul class="depends">${selected.depends.map((dep) => html`<li>${nameLink(dep.name)}${dep.range === '' ? '' : html` <code>${dep.range}</code>`}</li>`)}</ul>`}</div>
<div><h3>Required by</h3>${requiredBy.length === 0 ? html`<p class="muted">nothing in this repository</p>` : html`<ul class="required-by">${requiredBy.map((name) => html`<li>${nameLink(name)}</li>`)}</ul>`}</div>
<div><h3>Sonames provided</h3>${selected.provides.sonames.length === 0 ? html`<p class="muted">none</p>` : html`<ul>${selected.provides.sonames.map((soname) => html`<li><code>${soname}</code></li>`)}</ul>`}</div>
<div><h3>Sonames needed</h3>${selected.needs.sonames.length === 0 ? html`<p class="muted">none</p>` : html`<ul>${selected.needs.sonames.map((soname) => html`<li><code>${soname}</code>${(selected.needs.system ?? []).includes(soname) ? html` <span class="muted">system</span>` : providerLinks(soname)}</li>`)}</ul>`}</div>
</div>
${advisorySection(catalog, selected)}
<h3>Files</h3>${files === undefined ? html`<p class="muted">This repository publishes no file list for serial ${catalog.index.serial}.</p>` : html`<p class="muted">${files.length} paths</p><ul class="files">${files.map((file) => html`<li><code>${file[0]}</code>${file[1] === 'dir' ? '/' : ''}${file[1] === 'symlink' ? html` → <code>${file[2] ?? ''}</code>` : ''}</li>`)}</ul>`}
</section>`;
  return layout(catalog, item.name, body);
}

/** The open advisories that affect an entry, as links to its section; '—' when none. */
function advisoryBadges(catalog: Catalog, entry: IndexEntry): Markup {
  const findings = catalog.advisories === undefined ? [] : findAdvisories(catalog.advisories, entry);
  if (findings.length === 0) return html`<span class="muted">—</span>`;
  return html`${findings.map((finding, i) => html`${i > 0 ? ' ' : ''}<span class="advisory-badge" title="${finding.advisory.summary ?? ''}">${finding.advisory.id}</span>`)}`;
}

function advisorySection(catalog: Catalog, entry: IndexEntry): Markup {
  if (catalog.advisories === undefined) return html``;
  const findings = findAdvisories(catalog.advisories, entry);
  const triaged = catalog.advisories.triage.filter(
    (record) => record.name === entry.name && record.status !== 'affected',
  );
  return html`<h3>Security advisories</h3>${
    findings.length === 0
      ? html`<p class="muted" id="advisories">No open advisory affects this variant.</p>`
      : html`<ul class="advisories" id="advisories">${findings.map(
          (finding) =>
            html`<li><strong>${finding.advisory.id}</strong>${(finding.advisory.aliases ?? []).length > 0 ? html` <span class="muted">(${(finding.advisory.aliases ?? []).join(', ')})</span>` : ''}: ${finding.advisory.summary ?? ''}${finding.fixed === undefined ? '' : html` <strong>Fixed in ${finding.fixed}.</strong>`}${(finding.advisory.references ?? []).slice(0, 1).map((reference) => html` <a href="${safeUrl(reference.url)}" rel="nofollow noopener">${reference.type.toLowerCase()}</a>`)}</li>`,
        )}</ul>`
  }${triaged.length === 0 ? '' : html`<p class="muted">Triaged: ${triaged.map((record, i) => html`${i > 0 ? '; ' : ''}${record.advisory} ${record.status}${record.justification === '' ? '' : ` (${record.justification})`}`)}</p>`}`;
}

/** Only http(s) links from the index become links; anything else (javascript:, data:) is shown as text. */
function safeUrl(url: string): string {
  return /^https?:\/\//i.test(url) ? url : '#';
}

export function historyPage(catalog: Catalog, page: HistoryPage): string {
  const keyLink = (key: string) => {
    const name = key.slice(0, key.indexOf(' '));
    return html`<li>${catalog.byName.has(name) ? html`<a href="${packageHref(name)}">${name}</a>` : name} <span class="muted">${key.slice(name.length + 1)}</span></li>`;
  };
  const serialBlock = (entry: HistoryEntry) =>
    html`<article class="serial" id="serial-${entry.serial}"><h2>Serial ${entry.serial}${entry.time === undefined ? '' : html` <time class="muted" datetime="${entry.time}">${entry.time}</time>`}</h2>
${entry.pruned ? html`<p class="muted">Its index was pruned.</p>` : ''}${entry.message === undefined || entry.message === '' ? '' : html`<p class="message">${entry.message}</p>`}
${entry.added.length > 0 ? html`<h3>Added</h3><ul class="added">${entry.added.map(keyLink)}</ul>` : ''}
${entry.replaced.length > 0 ? html`<h3>Replaced</h3><ul class="replaced">${entry.replaced.map((row) => html`<li>${catalog.byName.has(row.name) ? html`<a href="${packageHref(row.name)}">${row.name}</a>` : row.name} <span class="muted">${row.from.join(', ')}</span> → ${row.to.join(', ')}</li>`)}</ul>` : ''}
${entry.removed.length > 0 ? html`<h3>Removed</h3><ul class="removed">${entry.removed.map(keyLink)}</ul>` : ''}
${entry.packages === undefined ? '' : html`<p class="muted">${entry.packages} package files after it.</p>`}</article>`;
  const body = html`<h1>History</h1>
<p class="muted">Every commit raises the serial by one. ${catalog.log !== undefined && catalog.log.length > 0 ? 'From the repository log.' : 'From the signed snapshots in indexes/.'}</p>
${page.entries.map(serialBlock)}
${page.older === undefined ? '' : html`<p class="pager"><a rel="next" href="/history?before=${page.older}">Older</a></p>`}`;
  return layout(catalog, 'History', body);
}

export function notFoundPage(catalog: Catalog, what: string): string {
  return layout(catalog, 'Not found', html`<h1>Not found</h1><p>${what}</p><p><a href="/search">All packages</a></p>`);
}
