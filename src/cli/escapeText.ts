/**
 * What Kiln prints comes partly from packages and indexes: names, paths,
 * summaries, link targets. Nothing in it may act on the terminal: control
 * characters (C0 but newline and tab, DEL, C1 such as the CSI U+009B that
 * starts escape sequences), Unicode line separators and bidirectional
 * controls (which make one name display as another) are shown escaped.
 */

const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Text for a terminal: each unsafe character as `\xHH` (below U+0100) or `\u{HHHH}`. */
export function escapeForTerminal(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/** JSON text with the same characters as `\uHHHH` escapes: the same data once parsed, harmless when shown. */
export function escapeJsonText(json: string): string {
  return json.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
