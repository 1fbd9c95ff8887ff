/** TOML documents read through a `Fail` callback, so that syntax errors read like every other problem of the file. */
import { parse as parseToml, TomlError } from 'smol-toml';
import type { Fail } from './shape.js';

/** The parsed document; a syntax error goes to `fail('line L, column C:', '… (not valid TOML)')`. */
export function parseTomlDocument(text: string, fail: Fail): unknown {
  try {
    return parseToml(text);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const reason = (error.message.split('\n')[0] ?? '').replace(/^Invalid TOML document: /, '');
    return fail(`line ${error.line}, column ${error.column}:`, `${reason} (the file is not valid TOML)`);
  }
}

/**
 * Where a setting is written: the line and column of the key `where` names
 * (`remotes.main.url`, `solver.options`), found in the text as a key or a
 * table header; undefined when it cannot be found (an inline table, say).
 */
export function locateKey(text: string, where: string): { line: number; column: number } | undefined {
  const path = settingName(where).replace(/\[\d+\]/g, '');
  const parts = path.split('.');
  const last = parts.pop();
  if (last === undefined || last === '' || last.startsWith('(')) return undefined;
  const table = parts.join('.');
  const key = new RegExp(`^(\\s*)(["']?)${last.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\2\\s*=`);
  let current = '';
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const opened = /^\s*\[\[?([^\]]+)\]\]?\s*(#.*)?$/.exec(line);
    if (opened !== null) {
      current = opened[1]!.replace(/["'\s]/g, '');
      if (current === path) return { line: i + 1, column: line.indexOf('[') + 1 };
      continue;
    }
    const match = current === table ? key.exec(line) : null;
    if (match !== null) return { line: i + 1, column: match[1]!.length + 1 };
  }
  return undefined;
}

/** A setting's name as a message gives it: `bogus`, not `(top level).bogus`. */
export function settingName(where: string): string {
  return where.replace(/^\(top level\)\./, '');
}

/** `line L, column C: NAME` for a message about the setting `where`, or `NAME` when it cannot be placed. */
export function placeSetting(text: string, where: string): string {
  const at = locateKey(text, where);
  return `${at === undefined ? '' : `line ${at.line}, column ${at.column}: `}${settingName(where)}`;
}
