import type { BuildpackDescriptor, Target } from "../buildpack/index.js";
import {
  DependencyCache,
  downloadDependencies,
  requestsForTargets,
  type DependencyEvent,
} from "../dependencies/index.js";

/** Options for fetching the dependencies of an offline package. */
export interface OfflineOptions {
  /** The buildpack directory, which relative `file:` URIs are resolved against. */
  baseDir: string;
  /** The download cache directory (default: the user's polypack cache). */
  cacheDir?: string;
  onEvent?: (event: DependencyEvent) => void;
}

/**
 * Brings the dependencies the given targets need (and only those) into the checksum-keyed cache,
 * one download per file however many targets share it. Returns the cached file of each checksum,
 * keyed `sha256:<hex>`, for the layer writer.
 */
export async function fetchOfflineDependencies(
  descriptor: Pick<BuildpackDescriptor, "metadata">,
  targets: readonly Target[],
  options: OfflineOptions,
): Promise<Map<string, string>> {
  const requests = requestsForTargets(descriptor.metadata.dependencies, targets);
  if (requests.length === 0) return new Map();
  const downloaded = await downloadDependencies(requests, {
    baseDir: options.baseDir,
    ...(options.cacheDir ? { cache: new DependencyCache(options.cacheDir) } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
  return new Map(downloaded.map((file) => [file.digest.toString(), file.path]));
}
