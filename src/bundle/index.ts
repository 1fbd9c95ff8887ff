export { createBundle, bundlePlaceholder } from './createBundle.js';
export type { BundleOptions, BundleResult } from './createBundle.js';
export { verifyBundle } from './verifyBundle.js';
export type { BundleProblem, BundleReport } from './verifyBundle.js';
export { parseBundleManifest, BUNDLE_DIRECTORY, RELOCATE_SCRIPT } from './bundleManifest.js';
export type { BundleManifest, BundleFile } from './bundleManifest.js';
export { trimClass } from './trimBundle.js';
export type { TrimClass } from './trimBundle.js';
