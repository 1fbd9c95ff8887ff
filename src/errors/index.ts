export { KilnError, isKilnError, isErrno } from './KilnError.js';
export type { KilnErrorOptions } from './KilnError.js';
export { ERROR_CODES } from './codes.js';
export type { ErrorCode } from './codes.js';
export { fromSystemError, UNCHANGED } from './systemError.js';
