/** The remote under which a prefix's own builds are published (buildMissing.ts). */
export const LOCAL_REMOTE = 'local';

/** Above any priority a configured remote may have (−1000–1000): a package built here for this prefix is taken first. */
export const LOCAL_PRIORITY = 1000;
