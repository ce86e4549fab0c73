import type { BuildpackDescriptor, Target } from "../buildpack/index.js";
import {
  DependencyCache,
  downloadDependencies,
  requestsForTargets,
  type DependencyEvent,
} from "../dependencies/index.js";
import type { FileIdentity } from "../util/file-identity.js";

/** Options for fetching the dependencies of an offline package. */
export interface OfflineOptions {
  /** The buildpack directory, which relative `file:` URIs are resolved against. */
  baseDir: string;
  /** The download cache directory (default: the user's polypack cache). */
  cacheDir?: string;
  onEvent?: (event: DependencyEvent) => void;
  /** Told about each cached file that failed its check and was downloaded again. */
  onDiscard?: (path: string, reason: string) => void;
  /** More certificate authorities to trust for HTTPS downloads (`--ca-file`). */
  caFile?: string;
  /** How long a silent download server is waited for (`--registry-timeout`; default 60 s). */
  idleTimeoutMs?: number;
}

/** A dependency's file in the download cache, and its identity when it was verified. */
export interface OfflineFile {
  path: string;
  identity: FileIdentity;
}

/**
 * Brings the dependencies the given targets need (and only those) into the checksum-keyed cache,
 * one download per file however many targets share it. Every file already cached is checked
 * against its checksum first (see DependencyCache.entry). Returns the cached file of each checksum,
 * keyed `sha256:<hex>`, for the layer writer.
 */
export async function fetchOfflineDependencies(
  descriptor: Pick<BuildpackDescriptor, "metadata">,
  targets: readonly Target[],
  options: OfflineOptions,
): Promise<Map<string, OfflineFile>> {
  const requests = requestsForTargets(descriptor.metadata.dependencies, targets);
  if (requests.length === 0) return new Map();
  const downloaded = await downloadDependencies(requests, {
    baseDir: options.baseDir,
    cache: new DependencyCache(options.cacheDir, options.onDiscard ? { onDiscard: options.onDiscard } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.caFile ? { caFile: options.caFile } : {}),
    ...(options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
  });
  return new Map(
    downloaded.map((file) => [file.digest.toString(), { path: file.path, identity: file.identity }]),
  );
}
