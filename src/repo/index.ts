/** The repository (binhost): layout, index format, maintainer operations. */
export * from './indexFormat.js';
export * from './indexV2.js';
export * from './layout.js';
export {
  readIndexAtSerial,
  readPublishedIndex,
  readPublishedRoot,
  localFetcher,
  publishedTreeOf,
} from './readPublishedIndex.js';
export type { PublishedIndex, PublishedRoot, RepositoryFetcher } from './readPublishedIndex.js';
export { openRepository, readRepositoryKeys } from './openRepository.js';
export type { Repository, RepositoryOptions } from './openRepository.js';
export { initRepository } from './initRepository.js';
export type { InitOptions } from './initRepository.js';
export { addPackages } from './addPackages.js';
export type { AddOptions, AddResult } from './addPackages.js';
export { removePackages, parseSelector } from './removePackages.js';
export type { RemoveOptions, RemoveResult } from './removePackages.js';
export { commitRepository } from './commitRepository.js';
export type { CommitOptions, CommitResult } from './commitRepository.js';
export { revertRepository } from './revertRepository.js';
export { mirrorStates, pushRepository } from './pushMirrors.js';
export type { MirrorPush, MirrorState, PushOptions } from './pushMirrors.js';
export type { RevertResult } from './revertRepository.js';
export { publishPackages } from './publishPackages.js';
export type { PublishResult } from './publishPackages.js';
export { repositoryStatus } from './repositoryStatus.js';
export type { RepositoryStatus } from './repositoryStatus.js';
export { verifyRepository, listPackageFiles } from './verifyRepository.js';
export type { VerifyRepositoryOptions, VerifyRepositoryReport } from './verifyRepository.js';
export { pruneRepository, DEFAULT_KEEP } from './pruneRepository.js';
export type { PruneResult } from './pruneRepository.js';
export { readLog } from './repositoryLog.js';
export type { LogRecord } from './repositoryLog.js';
export {
  addAdvisories,
  auditRepository,
  clearTriage,
  listAdvisories,
  readMaintainerAdvisories,
  triageAdvisory,
  withdrawAdvisory,
} from './repositoryAdvisories.js';
export type { AdvisoryChange, AdvisoryListing, RepositoryFinding } from './repositoryAdvisories.js';
