import type { Dependency } from "../buildpack/dependencies.js";
import { dependencyMatchesTarget } from "../buildpack/dependencies-filter.js";
import type { Target } from "../buildpack/descriptor-types.js";
import { targetKey } from "../buildpack/targets.js";
import { PolypackError, isPolypackError } from "../errors/index.js";
import type { Digest } from "../oci/digest.js";
import { nameDependency, type DependencyLabel } from "./failure.js";
import { displayUri, resolveDependencyUri, type DependencySource } from "./source-uri.js";

/** One dependency needed by one target, such as `linux/arm64`. */
export interface DependencyRequest {
  dependency: Dependency;
  target: string;
}

/** One file to download: every request that shares its checksum, in the order they were asked. */
export interface DownloadJob {
  digest: Digest;
  /** The first dependency entry with this checksum; its `uri` is the one fetched. */
  dependency: Dependency;
  /** Every target that needs it, without repeats. */
  targets: string[];
  source: DependencySource;
  label: DependencyLabel;
}

/** For each target, the dependencies that apply to it, named by `targetKey` (`linux/arm64`). */
export function requestsForTargets(
  dependencies: readonly Dependency[],
  targets: readonly Target[],
): DependencyRequest[] {
  return targets.flatMap((target) =>
    dependencies
      .filter((dependency) => dependencyMatchesTarget(dependency, target))
      .map((dependency) => ({ dependency, target: targetKey(target) })),
  );
}

/**
 * Groups requests by checksum (one download per file, however many targets need it) and checks,
 * before any network traffic, that each has a checksum and a supported URI. Relative `file:` URIs
 * are resolved against `baseDir`. Pure apart from path resolution.
 */
export function planDownloads(requests: readonly DependencyRequest[], baseDir: string): DownloadJob[] {
  const jobs = new Map<string, DownloadJob>();
  for (const { dependency, target } of requests) {
    const url = dependency.uri === undefined ? "(no uri)" : displayUri(dependency.uri);
    const label = { id: dependency.id, version: dependency.version, target, url };
    const digest = requireChecksum(dependency, label);
    const known = jobs.get(digest.toString());
    if (known !== undefined) {
      if (!known.targets.includes(target)) known.targets.push(target);
      known.label.target = known.targets.join(", ");
      continue;
    }
    jobs.set(digest.toString(), {
      digest,
      dependency,
      targets: [target],
      source: resolveSource(dependency, label, baseDir),
      label,
    });
  }
  return [...jobs.values()];
}

function requireChecksum(dependency: Dependency, label: DependencyLabel): Digest {
  if (dependency.checksum !== undefined) return dependency.checksum;
  throw new PolypackError(
    "DEPENDENCY_CHECKSUM_MISSING",
    `${where(dependency)}: ${nameDependency(label)} (${label.url}) has no checksum, so it cannot be packaged offline`,
    { hint: 'add checksum = "sha256:<hex>" so the download can be verified' },
  );
}

function resolveSource(dependency: Dependency, label: DependencyLabel, baseDir: string): DependencySource {
  if (dependency.uri === undefined || dependency.uri.trim() === "") {
    throw new PolypackError(
      "DEPENDENCY_URI_MISSING",
      `${where(dependency)}: ${nameDependency(label)} has no uri to download it from`,
    );
  }
  try {
    return resolveDependencyUri(dependency.uri, baseDir);
  } catch (error) {
    if (!isPolypackError(error)) throw error;
    const subject = `${where(dependency)}: ${nameDependency(label)}`;
    throw new PolypackError(error.code, `${subject}: cannot use uri ${label.url}: ${error.message}`, {
      cause: error,
      hint: error.hint,
    });
  }
}

function where(dependency: Dependency): string {
  return `buildpack.toml [[metadata.dependencies]][${dependency.index}]`;
}
