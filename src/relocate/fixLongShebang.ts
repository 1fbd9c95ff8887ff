/**
 * `#!` lines the kernel cannot run. Linux before 5.1 reads at most 127 bytes
 * of a script's first line (BINPRM_BUF_SIZE was 128), and every kernel ends
 * the interpreter's path at the first blank, so a relocated script whose
 * interpreter sits deep in a long prefix, or in a prefix with a space, would
 * not start. Such a line is replaced by `#!/bin/sh` and a line that the shell
 * runs to start the real interpreter but that the script's own language
 * ignores — for Python, Perl and the POSIX shells.
 */

/** The longest `#!` line (without its newline) every Linux kernel reads whole. */
export const SHEBANG_LIMIT = 127;

export interface ShebangFix {
  content: Buffer;
  /** The interpreter of a line that was too long but left alone (no known trick for its language). */
  unfixed?: string;
}

/**
 * `content` with its first line replaced when it is a `#!` line longer than
 * SHEBANG_LIMIT bytes, or whose interpreter lies in `prefix` and the prefix
 * holds a blank (or, with `always`, whenever it lies in `prefix`: a bundle's
 * scripts must start from any directory), and the interpreter is one we know;
 * otherwise as it was.
 * @example fixLongShebang(Buffer.from(`#!${longPrefix}/bin/python3\nprint(1)\n`), longPrefix).content // '#!/bin/sh\n\'\'\'exec\' \'…/bin/python3\' "$0" "$@"\n\' \'\'\'\nprint(1)\n'
 */
export function fixLongShebang(content: Buffer, prefix: string, always = false): ShebangFix {
  if (content.length < 2 || content[0] !== 0x23 || content[1] !== 0x21) return { content };
  const newline = content.indexOf(0x0a);
  const lineEnd = newline < 0 ? content.length : newline;
  const line = content.subarray(2, lineEnd).toString('utf8').trim();
  // An interpreter inside the prefix is the prefix plus the next word, blanks in the prefix included.
  const inPrefix = prefix !== '' && line.startsWith(`${prefix}/`);
  const match = inPrefix ? /^(\S*)(?:\s+(.*))?$/.exec(line.slice(prefix.length)) : /^(\S+)(?:\s+(.*))?$/.exec(line);
  if (match === null) return { content };
  const interpreter = inPrefix ? prefix + match[1]! : match[1]!;
  const argument = match[2]?.trim();
  if (lineEnd <= SHEBANG_LIMIT && !/\s/.test(interpreter) && !(always && inPrefix)) return { content };
  const rest = newline < 0 ? Buffer.alloc(0) : content.subarray(newline + 1);
  const header = launcher(interpreter, argument);
  if (header === undefined) return { content, unfixed: interpreter };
  return { content: Buffer.concat([Buffer.from(header, 'utf8'), rest]) };
}

function launcher(interpreter: string, argument: string | undefined): string | undefined {
  // Quoting inside the language's own syntax is kept simple: refuse what would need escaping.
  if (/['"$`\\\n]/.test(interpreter) || (argument !== undefined && /['"$`\\\s]/.test(argument))) return undefined;
  const name = interpreter.slice(interpreter.lastIndexOf('/') + 1);
  const args = argument === undefined || argument === '' ? '' : ` '${argument}'`;
  if (/^python[0-9.]*$/.test(name)) {
    // The shell runs line 2 (''exec' is exec); Python sees one string literal spanning lines 2–3.
    return `#!/bin/sh\n'''exec' '${interpreter}'${args} "$0" "$@"\n' '''\n`;
  }
  if (/^perl[0-9.]*$/.test(name)) {
    // perl -x skips to the next "#!…perl" line; "eval … if 0" is never run by perl.
    return `#!/bin/sh\n#! -*- perl -*-\neval 'exec "${interpreter}" -x${argument === undefined ? '' : ` ${argument}`} "$0" "$@"'\n    if 0;\n`;
  }
  if (/^(sh|bash|dash|ksh|mksh|zsh)$/.test(name)) {
    // The real shell reads this line too: the variable stops it from starting itself again.
    return `#!/bin/sh\nif [ -z "\${KILN_SHEBANG_REEXEC-}" ]; then KILN_SHEBANG_REEXEC=1; export KILN_SHEBANG_REEXEC; exec '${interpreter}'${args} "$0" "$@"; fi; unset KILN_SHEBANG_REEXEC\n`;
  }
  return undefined;
}
