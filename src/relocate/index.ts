export { PlaceholderScanner } from './PlaceholderScanner.js';
export type { ScanResult } from './PlaceholderScanner.js';
export { fixLongShebang, SHEBANG_LIMIT } from './fixLongShebang.js';
export type { ShebangFix } from './fixLongShebang.js';
