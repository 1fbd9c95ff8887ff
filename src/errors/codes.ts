/**
 * Every error code Kiln reports, with the one-line meaning that docs/errors.md
 * repeats (a test keeps the two in step). Codes are stable: once published a
 * code keeps its meaning and is never reused.
 */
export const ERROR_CODES = {
  E_USAGE: 'the command line is not valid (unknown command, missing or bad argument)',
  E_IO: 'a file or directory could not be read or written',
  E_LOCKED: 'another Kiln process holds the lock on a repository or prefix',
  E_FARM_SCHEMA: 'the build farm catalog was migrated by a newer Kiln, or its schema is not what this Kiln expects',
  E_FARM_LEASE:
    "a build farm step's lease is not the caller's any more (expired, cancelled, or taken by another worker)",
  E_FARM_TOKEN: "a build farm worker's token is unknown, malformed or revoked",
  E_FARM_PROTOCOL: 'a build farm coordinator or worker sent what the farm protocol does not allow',
  E_FARM_UPLOAD: 'a package a build farm worker uploaded is not what its step asked for, or fails verification',
  E_POLICY: "kilnd's policy file is malformed",
  E_DENIED: "kilnd's policy does not allow the request",
  E_DAEMON: 'kilnd cannot be reached, or broke off the conversation',
  E_VERSION: 'a version string does not follow the version syntax',
  E_RANGE: 'a version range does not follow the range syntax',
  E_LICENSE: 'a license is not a valid SPDX license expression',
  E_KEY_FORMAT: 'a public or secret key file is malformed or of an unsupported kind',
  E_KEY_PASSWORD: 'a secret key is encrypted and the password is missing or wrong',
  E_KEY_EXISTS: 'a key file already exists and would be overwritten',
  E_SIGNATURE_FORMAT: 'a signature file is malformed',
  E_SIGNATURE_INVALID: 'a signature does not match the signed data (altered, truncated or badly signed)',
  E_SIGNATURE_UNTRUSTED: 'a signature was made by a key that is not trusted here',
  E_META: "package metadata (the pack input or a package's own metadata) is invalid",
  E_STAGE: 'a staged tree cannot be packed (unsupported file type, unreadable file, unsafe link)',
  E_PACKAGE_FORMAT: 'a file is not a Kiln package, or its container is malformed or of an unsupported version',
  E_PACKAGE_TRUNCATED: 'a package file ends before its container does',
  E_PACKAGE_UNSIGNED: 'a package carries no signature where one is required',
  E_PACKAGE_HASH: 'a package payload or one of its files does not match the size or sha256 its metadata declares',
  E_PACKAGE_DUPLICATE: 'a package lists the same path twice',
  E_PACKAGE_PATH:
    'a package holds an unsafe path (absolute, "..", empty or non-canonical component, under a non-directory)',
  E_PACKAGE_LINK:
    'a package holds a symbolic or hard link that points outside the package tree or to something invalid',
  E_PACKAGE_FILETYPE: 'a package holds a device node, FIFO, socket or other unsupported file type',
  E_PACKAGE_SIZE: 'a package decompresses to more than it declares, or exceeds a size limit',
  E_PACKAGE_MANIFEST: 'a package payload does not hold exactly the entries its manifest lists',
  E_INDEX_FORMAT: 'a repository index is malformed or of an unsupported version',
  E_INDEX_DUPLICATE: 'a repository index lists the same package or file twice',
  E_INDEX_MISMATCH:
    'a package, or a file of index format v2 (name table, shard), does not match what the repository index pins (missing, size, sha256, identity)',
  E_REPO_NOT_FOUND: 'a directory is not a Kiln repository',
  E_REPO_EXISTS: 'a repository cannot be created where one (or other content) already exists',
  E_REPO_LAYOUT:
    'a repository has the earlier layout, its published files beside its private .kiln/; they must move into DIR/public',
  E_REPO_CONFLICT:
    'a package with the same name, version and variant but different content is already staged or published',
  E_REPO_NOTHING: 'a repository commit has nothing to publish',
  E_REPO_NO_MATCH: 'no staged or published package matches what was asked for',
  E_REPO_VERIFY: 'a repository failed verification (the message lists each problem)',
  E_REPO_PRUNED: 'an earlier serial cannot be published again: its index or a package file it names was pruned',
  E_PREFIX_NOT_FOUND: 'a directory is not a Kiln prefix (it has no etc/kiln/config.toml)',
  E_PREFIX_EXISTS: 'a prefix cannot be created where one already exists',
  E_NO_SPACE: 'a file system has too little free space for a change (the check before anything is done)',
  E_CONFIG: 'a prefix configuration file is malformed or holds an unknown setting',
  E_CPU_LEVEL: "the prefix's configured cpu-level is one this host's CPU does not run (and cpu-level-force is not set)",
  E_DATABASE: 'the installed-package database is unreadable, corrupt or from a newer Kiln',
  E_REMOTE_URL: 'a remote URL is malformed or uses an unsupported scheme (file, http and https are supported)',
  E_REMOTE_EXISTS: 'a remote with that name is already configured',
  E_REMOTE_NOT_FOUND: 'no remote with that name is configured',
  E_FETCH: 'a download failed (connection, HTTP status, timeout, or the server sent more than expected)',
  E_INDEX_ROLLBACK: 'a remote offered an index whose serial is older than the one already accepted (rollback)',
  E_INDEX_EXPIRED: "a remote's index has expired (freeze), or the synced copy is too old to install from",
  E_NOT_SYNCED: 'a remote has no synced index yet',
  E_HELD: 'a package is held at its installed version (kiln hold) and the command would change it',
  E_NO_FILE_LIST: 'a remote publishes no file list for its index (committed by a Kiln without file lists)',
  E_NOT_INSTALLED: 'a package is not installed in the prefix',
  E_NO_CANDIDATE: 'no available package satisfies a request or a dependency (name, version range, target)',
  E_FETCH_SLOW:
    'a transfer fell below the minimum rate or ran past its deadline (min-rate, min-rate-window, fetch-deadline)',
  E_FILE_CONFLICT: 'a package would overwrite a file that another package or nobody owns',
  E_PATH_TOO_LONG: 'a package path would be longer than the system allows once the prefix is in front of it',
  E_REMOVE_NEEDED: 'a package cannot be removed because installed packages depend on it',
  E_MISSING_LIBRARY:
    'a package needs a shared library that, after the change, neither a package of the prefix nor the host would provide',
  E_RELOCATE: 'a package cannot be relocated into this prefix (the prefix is longer than the placeholder)',
  E_ACCOUNT:
    'a user or group cannot be looked up or created (unknown owner, no free id, malformed passwd or group file)',
  E_CONFIRM: 'a change needs confirmation and there is no terminal to ask (pass -y)',
  E_ABORTED: 'the user declined the plan, or the command was interrupted',
  E_ELF: 'an ELF file is malformed, or its run path cannot be rewritten in place',
  E_RECIPE: 'a recipe is invalid (the message names the file, the field and the problem)',
  E_RECIPE_NOT_FOUND: 'no recipe with that name is in the ports tree',
  E_SOURCE: 'a source could not be fetched from its URL, a mirror or the distfiles directory, or its sha256 differs',
  E_BUILD: 'a build step failed (unpack, patch, build script); the message names the log',
  E_HOST_LIBRARY: 'a built file needs a shared library that no dependency and no allowed system library provides',
  E_SANDBOX:
    'builds cannot run in their sandbox here (bubblewrap missing, user namespaces disabled, no dpkg database), and building without one was not allowed',
  E_VERIFY: 'installed files differ from what the database records (the message lists each problem)',
  E_LISTEN: 'a server cannot listen on the address given (in use, not permitted, or not an address of this host)',
  E_PUSH: 'a push to a mirror failed: rsync or ssh reported an error (unreachable host, refused key, unknown host key)',
  E_ADVISORY_FORMAT:
    'an advisory or advisories file is malformed (not an OSV record Kiln reads, a bad version or range)',
  E_ADVISORY:
    'a package is affected by an open security advisory (install refused unless --allow-advisory names it; audit found one)',
  E_BUNDLE:
    'a bundle cannot be made or checked (a path the fix-up script cannot carry, a changed file, a damaged manifest)',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
