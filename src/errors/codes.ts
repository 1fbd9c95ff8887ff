/**
 * Every error code Kiln reports, with the one-line meaning that docs/errors.md
 * repeats (a test keeps the two in step). Codes are stable: once published a
 * code keeps its meaning and is never reused.
 */
export const ERROR_CODES = {
  E_USAGE: 'the command line is not valid (unknown command, missing or bad argument)',
  E_IO: 'a file or directory could not be read or written',
  E_LOCKED: 'another Kiln process holds the lock on a repository or prefix',
  E_VERSION: 'a version string does not follow the version syntax',
  E_RANGE: 'a version range does not follow the range syntax',
  E_LICENSE: 'a license is not a valid SPDX license expression',
  E_KEY_FORMAT: 'a public or secret key file is malformed or of an unsupported kind',
  E_KEY_PASSWORD: 'a secret key is encrypted and the password is missing or wrong',
  E_KEY_EXISTS: 'a key file already exists and would be overwritten',
  E_SIGNATURE_FORMAT: 'a signature file is malformed',
  E_SIGNATURE_INVALID: 'a signature does not match the signed data (altered, truncated or badly signed)',
  E_SIGNATURE_UNTRUSTED: 'a signature was made by a key that is not trusted here',
  E_META: 'package metadata (the pack input or a package\'s own metadata) is invalid',
  E_STAGE: 'a staged tree cannot be packed (unsupported file type, unreadable file, unsafe link)',
  E_PACKAGE_FORMAT: 'a file is not a Kiln package, or its container is malformed or of an unsupported version',
  E_PACKAGE_TRUNCATED: 'a package file ends before its container does',
  E_PACKAGE_UNSIGNED: 'a package carries no signature where one is required',
  E_PACKAGE_HASH: 'a package payload or one of its files does not match the size or sha256 its metadata declares',
  E_PACKAGE_DUPLICATE: 'a package lists the same path twice',
  E_PACKAGE_PATH: 'a package holds an unsafe path (absolute, "..", empty or non-canonical component, under a non-directory)',
  E_PACKAGE_LINK: 'a package holds a symbolic or hard link that points outside the package tree or to something invalid',
  E_PACKAGE_FILETYPE: 'a package holds a device node, FIFO, socket or other unsupported file type',
  E_PACKAGE_SIZE: 'a package decompresses to more than it declares, or exceeds a size limit',
  E_PACKAGE_MANIFEST: 'a package payload does not hold exactly the entries its manifest lists',
  E_INDEX_FORMAT: 'a repository index is malformed or of an unsupported version',
  E_INDEX_DUPLICATE: 'a repository index lists the same package or file twice',
  E_INDEX_MISMATCH: 'a package does not match what the repository index pins (missing, size, sha256, identity)',
  E_REPO_NOT_FOUND: 'a directory is not a Kiln repository',
  E_REPO_EXISTS: 'a repository cannot be created where one (or other content) already exists',
  E_REPO_CONFLICT: 'a package with the same name, version and variant but different content is already staged or published',
  E_REPO_NOTHING: 'a repository commit has nothing to publish',
  E_REPO_NO_MATCH: 'no staged or published package matches what was asked for',
  E_REPO_VERIFY: 'a repository failed verification (the message lists each problem)',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
