/**
 * A command line Kiln suggests (`run "kiln sync"`) must act on the prefix the
 * user named: with `--prefix DIR` on the command line, every suggested
 * command that works on a prefix gets `--prefix DIR` too, shell-quoted and
 * absolute, so that pasting it works from any directory.
 */
import { resolve } from 'node:path';
import { shellQuote } from '../util/shellQuote.js';

/** The first words of the commands that act on a prefix. */
const PREFIX_COMMANDS = [
  'init',
  'remote',
  'sync',
  'search',
  'info',
  'list',
  'files',
  'owns',
  'deps',
  'rdeps',
  'install',
  'remove',
  'upgrade',
  'autoremove',
  'history',
  'verify',
  'mark',
  'hold',
  'unhold',
  'cache',
];
const SUGGESTED = new RegExp(`\\bkiln (?=(?:${PREFIX_COMMANDS.join('|')})\\b)`, 'g');

/** `text` with `--prefix DIR` in each suggested prefix command that lacks it. */
export function withPrefixOption(text: string, prefix: string): string {
  return text.replace(SUGGESTED, `kiln --prefix ${shellQuote(resolve(prefix))} `);
}
