import semver from "semver";
import { PolypackError } from "../errors/index.js";
import { coerceVersion } from "./constraint.js";
import type { Dependency } from "./dependencies.js";
import { dependencyMatchesTarget } from "./dependencies-filter.js";
import type { ArchitectureSource } from "./dependency-platform.js";
import type { Target } from "./descriptor-types.js";
import { targetKey } from "./targets.js";

/** How a buildpack's dependencies name their architecture, judged from all of them. */
export type Dialect = "packit" | "rfc" | "libpak" | "none" | "mixed";

/** One finding of a coverage check. */
export interface CoverageIssue {
  severity: "error" | "warning" | "info";
  /**
   * `missing-dependency`: a target has no version of an id that another target has;
   * `missing-versions`: it has some, but not every version another target has;
   * `unused`: an entry no target gets (it will be left out of every image);
   * `dialect`: a dependency the original tool would place differently.
   */
  kind: "missing-dependency" | "missing-versions" | "unused" | "dialect";
  dependencyId: string;
  target?: string;
  versions?: string[];
  message: string;
}

/** For one dependency id: which versions exist for which targets. */
export interface DependencyCoverage {
  id: string;
  versions: { version: string; targets: string[] }[];
}

/** Which dependency versions each target gets, with warnings for gaps; plain data for `--json`. */
export interface CoverageReport {
  dialect: Dialect;
  /** How polypack read the architectures, and where that differs from the original tool. */
  explanation: string;
  targets: string[];
  dependencies: DependencyCoverage[];
  issues: CoverageIssue[];
}

const DIALECTS: Record<ArchitectureSource, Dialect> = {
  arch: "packit",
  architecture: "rfc",
  purl: "libpak",
  none: "none",
};

const EXPLANATIONS: Record<Dialect, string> = {
  packit:
    "architectures come from each dependency's `arch` key (packit); entries without one go to every target, as in packit",
  rfc: "architectures come from each dependency's `architecture` key (Paketo RFC 288); entries without one go to every target",
  libpak:
    "architectures come from `arch=` in each dependency's purl (libpak); entries without one go to every target, although libpak treats an entry with no purl at all as amd64-only",
  none: "no dependency names an architecture, so every dependency goes to every target",
  mixed:
    "dependencies name their architecture in several ways (arch, architecture, purl); each is read as written and entries naming none go to every target",
};

/** The dialect that names the architectures in a list of dependencies. */
export function detectDialect(dependencies: readonly Dependency[]): Dialect {
  const found = new Set(dependencies.map((d) => d.architectureSource).filter((s) => s !== "none"));
  if (found.size === 0) return "none";
  if (found.size > 1) return "mixed";
  return DIALECTS[[...found][0] ?? "none"];
}

/**
 * Checks that every target gets every dependency id some other target gets. A missing id is a
 * warning, or an error when `strict`; missing single versions are warnings (printed, never fatal).
 */
export function dependencyCoverage(
  dependencies: readonly Dependency[],
  targets: readonly Target[],
  options: { strict?: boolean } = {},
): CoverageReport {
  const dialect = detectDialect(dependencies);
  const keys = targets.map(targetKey);
  const issues: CoverageIssue[] = [];
  const coverage: DependencyCoverage[] = [];
  for (const id of [...new Set(dependencies.map((d) => d.id))]) {
    const ofId = dependencies.filter((d) => d.id === id);
    const perTarget = targets.map(
      (t) => new Set(ofId.filter((d) => dependencyMatchesTarget(d, t)).map((d) => d.version)),
    );
    const allVersions = [...new Set(perTarget.flatMap((set) => [...set]))].sort(byVersion);
    coverage.push({
      id,
      versions: allVersions.map((version) => ({
        version,
        targets: keys.filter((_, i) => perTarget[i]?.has(version)),
      })),
    });
    perTarget.forEach((versions, i) => {
      const target = keys[i] ?? "";
      const missing = allVersions.filter((v) => !versions.has(v));
      if (versions.size === 0 && missing.length > 0) {
        issues.push({
          severity: options.strict ? "error" : "warning",
          kind: "missing-dependency",
          dependencyId: id,
          target,
          versions: missing,
          message: `target ${target} has no version of dependency "${id}" (other targets have ${missing.join(", ")})`,
        });
      } else if (missing.length > 0) {
        issues.push({
          severity: "warning",
          kind: "missing-versions",
          dependencyId: id,
          target,
          versions: missing,
          message: `target ${target} lacks versions ${missing.join(", ")} of dependency "${id}" that other targets have`,
        });
      }
    });
  }
  for (const d of dependencies.filter((dep) => !targets.some((t) => dependencyMatchesTarget(dep, t)))) {
    const platform = `${d.os || "*"}/${d.architecture || "*"}`;
    issues.push({
      severity: "info",
      kind: "unused",
      dependencyId: d.id,
      versions: [d.version],
      message: `dependency "${d.id}" ${d.version} for ${platform} matches no target and is left out`,
    });
  }
  if (dialect === "libpak") {
    for (const d of dependencies.filter(
      (dep) => dep.raw["purl"] === undefined && dep.raw["purls"] === undefined,
    )) {
      issues.push({
        severity: "info",
        kind: "dialect",
        dependencyId: d.id,
        versions: [d.version],
        message: `dependency "${d.id}" ${d.version} has no purl: polypack includes it for every target, libpak would use it on amd64 only`,
      });
    }
  }
  return { dialect, explanation: EXPLANATIONS[dialect], targets: keys, dependencies: coverage, issues };
}

/** Throws DEPENDENCY_COVERAGE_INCOMPLETE when a report holds errors. */
export function assertCoverage(report: CoverageReport): void {
  const errors = report.issues.filter((issue) => issue.severity === "error");
  const [first] = errors;
  if (first === undefined) return;
  throw new PolypackError(
    "DEPENDENCY_COVERAGE_INCOMPLETE",
    errors.length === 1 ? first.message : `${errors.length} dependency gaps, first: ${first.message}`,
    { hint: "add the missing dependencies to buildpack.toml, or drop the target" },
  );
}

function byVersion(a: string, b: string): number {
  const [x, y] = [coerceVersion(a), coerceVersion(b)];
  return x !== undefined && y !== undefined ? semver.compare(x, y) : a.localeCompare(b);
}
