/**
 * HTML with every interpolated value escaped unless it is markup made here:
 * `html\`<p>${text}</p>\`` escapes `text`; a value made by `html` (or an array
 * of them) is inserted as it is. Package names, summaries and paths come from
 * the index, which any maintainer writes, so nothing reaches a page unescaped.
 */
export class Markup {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

type Value = string | number | Markup | readonly Markup[] | undefined | null | false;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] as string);
}

function render(value: Value): string {
  if (value === undefined || value === null || value === false) return '';
  if (value instanceof Markup) return value.text;
  if (Array.isArray(value)) return value.map((item: Markup) => item.text).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Markup {
  let text = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) text += render(values[i]) + (strings[i + 1] ?? '');
  return new Markup(text);
}

/** A path of the published tree (`packages/a b/x.kpkg`) as an absolute URL path, each segment encoded. */
export function treeHref(relativePath: string): string {
  return `/${relativePath.split('/').map(encodeURIComponent).join('/')}`;
}

export function packageHref(name: string, version?: string, variant?: string): string {
  const query =
    version === undefined ? '' : `?version=${encodeURIComponent(version)}&variant=${encodeURIComponent(variant ?? '')}`;
  return `/package/${encodeURIComponent(name)}${query}`;
}
