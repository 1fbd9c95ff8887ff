/** Remote repositories: their URLs, fetching their index files, downloading their packages. */
export { parseRemoteUrl, redactUrl, resolveRemotePath } from './remoteUrl.js';
export { remoteFetcher, DEFAULT_TIMEOUT_MS, DEFAULT_MAX_FETCH_BYTES } from './remoteFetcher.js';
export type { RemoteFetcherOptions } from './remoteFetcher.js';
export { download, downloadAll } from './download.js';
export type {
  DownloadRequest,
  DownloadProgress,
  DownloadOptions,
  DownloadResult,
  DownloadAllOptions,
  DownloadAllProgress,
} from './download.js';
