/** TOML documents read through a `Fail` callback, so that syntax errors read like every other problem of the file. */
import { parse as parseToml, TomlError } from 'smol-toml';
import type { Fail } from './shape.js';

/** The parsed document; a syntax error goes to `fail('(file)', 'is not valid TOML: …')` with the parser's first line. */
export function parseTomlDocument(text: string, fail: Fail): unknown {
  try {
    return parseToml(text);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    return fail('(file)', `is not valid TOML: ${error.message.split('\n')[0]}`);
  }
}
