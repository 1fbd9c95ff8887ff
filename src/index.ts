/**
 * Kiln's library API. The `kiln` CLI is a thin shell over these functions;
 * programs can import them directly.
 *
 * @example
 * import { pack, readPackInput, initRepository, addPackages, commitRepository, openPrefix } from 'kiln';
 */
export * from './errors/index.js';
export * from './version/index.js';
export * from './license/index.js';
export * from './sign/index.js';
export * from './format/index.js';
export * from './repo/index.js';
export { sha256, sha256File } from './util/hash.js';
export type { Sha256 } from './util/hash.js';
export * from './config/index.js';
export * from './db/index.js';
export * from './solver/index.js';
export * from './remote/index.js';
export * from './install/index.js';
