export { PlaceholderScanner } from './PlaceholderScanner.js';
export type { ScanResult } from './PlaceholderScanner.js';
