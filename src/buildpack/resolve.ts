import semver from "semver";
import { PolypackError } from "../errors/index.js";
import type { Platform } from "../oci/platform.js";
import { coerceVersion, packitConstraint, parseConstraint } from "./constraint.js";
import type { Dependency } from "./dependencies.js";
import { dependencyMatchesTarget } from "./dependencies-filter.js";
import type { Target } from "./descriptor-types.js";
import { asTarget, targetKey } from "./targets.js";

/** What to resolve; the fields mirror packit's `postal.Resolve` plus the target. */
export interface ResolveRequest {
  id: string;
  /** A Masterminds constraint; `""` or `"default"` means `defaultVersions[id]`, else `*`. */
  version?: string;
  /** The stack id (pre-targets buildpacks); when absent stacks are not compared. */
  stack?: string;
  target: Target | Platform;
  /** `[metadata.default-versions]`. */
  defaultVersions?: Readonly<Record<string, string>>;
  /** The clock for deprecation warnings. */
  now?: Date;
}

/** A deprecation notice for the chosen dependency. */
export interface DeprecationWarning {
  kind: "deprecated" | "deprecated-soon";
  date: Date;
  message: string;
}

/** The chosen dependency, the constraint actually applied, and any deprecation warnings. */
export interface Resolution {
  dependency: Dependency;
  constraint: string;
  warnings: DeprecationWarning[];
}

const THIRTY_DAYS_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Picks the dependency packit would install: same id, a stack list holding the stack or `*` (or no
 * stacks), a platform matching the target and a version within the constraint. The newest version
 * wins; at equal versions a specific stack beats `*` and an architecture-specific entry beats a
 * universal one. Throws DEPENDENCY_NOT_FOUND listing the versions there are.
 */
export function resolveDependency(dependencies: readonly Dependency[], request: ResolveRequest): Resolution {
  const target = asTarget(request.target);
  const constraint = packitConstraint(request.version ?? "", request.defaultVersions?.[request.id]);
  const parsed = parseConstraint(constraint);
  const ofId = dependencies.filter((d) => d.id === request.id && stackMatches(d, request.stack));
  const forTarget = ofId.filter((d) => dependencyMatchesTarget(d, target));
  const candidates = forTarget
    .map((dependency) => ({ dependency, version: versionOf(dependency) }))
    .filter(({ version }) => parsed.satisfiedBy(version))
    .sort(
      (a, b) =>
        semver.rcompare(a.version, b.version) ||
        preference(b.dependency, request) - preference(a.dependency, request),
    );
  const chosen = candidates[0]?.dependency;
  if (chosen === undefined) throw notFound(request, constraint, target, forTarget, ofId);
  return { dependency: chosen, constraint, warnings: deprecationWarnings(chosen, request.now ?? new Date()) };
}

/** packit's deprecation notices: within 30 days of `deprecation_date`, and from that date on. */
export function deprecationWarnings(dependency: Dependency, now: Date): DeprecationWarning[] {
  const date = dependency.deprecationDate;
  if (date === undefined) return [];
  const label = `version ${dependency.version} of ${dependency.name ?? dependency.id}`;
  const day = date.toISOString().slice(0, 10);
  if (date.getTime() <= now.getTime()) {
    return [
      {
        kind: "deprecated",
        date,
        message: `${capitalize(label)} is deprecated; migrate to a supported version.`,
      },
    ];
  }
  if (date.getTime() - THIRTY_DAYS_MS < now.getTime()) {
    return [
      { kind: "deprecated-soon", date, message: `${capitalize(label)} will be deprecated after ${day}.` },
    ];
  }
  return [];
}

function stackMatches(dependency: Dependency, stack: string | undefined): boolean {
  if (stack === undefined || dependency.stacks.length === 0) return true;
  return dependency.stacks.includes(stack) || dependency.stacks.includes("*");
}

function preference(dependency: Dependency, request: ResolveRequest): number {
  const exactStack = request.stack !== undefined && dependency.stacks.includes(request.stack) ? 2 : 0;
  return exactStack + (dependency.architecture !== "" ? 1 : 0);
}

function versionOf(dependency: Dependency): string {
  const version = coerceVersion(dependency.version);
  if (version !== undefined) return version;
  throw new PolypackError(
    "DEPENDENCY_VERSION_INVALID",
    `[[metadata.dependencies]][${dependency.index}] (${dependency.id}): invalid version ${JSON.stringify(dependency.version)}`,
    { hint: "dependency versions must be semantic versions such as 1.2.3" },
  );
}

function notFound(
  request: ResolveRequest,
  constraint: string,
  target: Target,
  forTarget: readonly Dependency[],
  ofId: readonly Dependency[],
): PolypackError {
  const where = targetKey(target);
  const here = unique(forTarget.map((d) => d.version));
  const others = ofId.filter((d) => !here.includes(d.version));
  const elsewhere = unique(others.map((d) => d.version)).map((version) => {
    const platforms = others
      .filter((d) => d.version === version)
      .map((d) => (d.os ? `${d.os}/${d.architecture || "*"}` : d.architecture || "any architecture"));
    return `${version} (${[...new Set(platforms)].join(", ")})`;
  });
  const stack = request.stack === undefined ? "" : ` on stack ${request.stack}`;
  return new PolypackError(
    "DEPENDENCY_NOT_FOUND",
    `no version of dependency "${request.id}" satisfies ${JSON.stringify(constraint)} for ${where}${stack}; ` +
      `versions for ${where}: ${here.join(", ") || "none"}; only for other targets: ${elsewhere.join(", ") || "none"}`,
    { hint: `choose one of the versions for ${where}, or add a [[metadata.dependencies]] entry for it` },
  );
}

function unique(versions: readonly string[]): string[] {
  return [...new Set(versions)].sort((a, b) =>
    semver.rcompare(coerceVersion(a) ?? "0.0.0", coerceVersion(b) ?? "0.0.0"),
  );
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
