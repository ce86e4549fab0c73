// Offline packaging's dependency downloads: a checksum-keyed cache and the downloader that fills it.
export { defaultCacheHome, defaultDependencyCacheDir } from "./cache-dir.js";
export { DependencyCache, type CacheEntry, type PutOptions } from "./cache.js";
export {
  downloadDependencies,
  type DependencyEvent,
  type DownloadOptions,
  type DownloadedDependency,
} from "./download.js";
export { isTransient, nameDependency, type DependencyErrorCode, type DependencyLabel } from "./failure.js";
export { planDownloads, requestsForTargets, type DependencyRequest, type DownloadJob } from "./plan.js";
export { displayUri, resolveDependencyUri, type DependencySource } from "./source-uri.js";
