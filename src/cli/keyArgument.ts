/** A public key given on the command line: a key file, or the key's base64 line. */
import { readFile } from 'node:fs/promises';
import { KilnError, isErrno } from '../errors/index.js';
import { parsePublicKey } from '../sign/index.js';

/** The text of a --key argument: the file it names, or the argument itself when it is a key's base64 line. */
export async function readKeyArgument(arg: string): Promise<string> {
  try {
    return await readFile(arg, 'utf8');
  } catch (error) {
    // Not a file: either the key's base64 line itself, or a file that is not there.
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENAMETOOLONG') || isErrno(error, 'ENOTDIR')) {
      if (looksLikeKeyLine(arg)) return arg;
      throw new KilnError('E_IO', `cannot read public key ${arg}: no such file`, {
        cause: error,
        hint: 'give the repository\'s public key file (KEY.pub) or its base64 line (what "kiln key show" prints)',
      });
    }
    if (isErrno(error, 'EACCES') || isErrno(error, 'EISDIR'))
      throw new KilnError(
        'E_IO',
        `cannot read public key ${arg}: ${isErrno(error, 'EACCES') ? 'permission denied' : 'it is a directory'}`,
        { cause: error },
      );
    throw error;
  }
}

/** Whether a --key argument is meant as a key's base64 line rather than a path (a minisign key line is 56 base64 characters). */
function looksLikeKeyLine(arg: string): boolean {
  return /^[A-Za-z0-9+/]{40,}={0,2}$/.test(arg.trim());
}

/** The texts of public key arguments, each checked here, where its file's name is known, so that a message names it. */
export async function readPublicKeyArguments(args: readonly string[]): Promise<string[]> {
  return Promise.all(
    args.map(async (arg) => {
      const text = await readKeyArgument(arg);
      parsePublicKey(text, arg);
      return text;
    }),
  );
}
