import semver from "semver";
import { PolypackError } from "../errors/index.js";

/**
 * A version constraint in the syntax of Go's Masterminds/semver v3 (what packit and libpak use),
 * translated to node-semver. Commas and spaces mean AND, `||` means OR, `1.24.*` and `1.x` are
 * wildcards, `~>` is `~`, `A - B` is an inclusive range, `!=` excludes.
 */
export interface VersionConstraint {
  /** The constraint as written. */
  readonly source: string;
  /** An equivalent node-semver range (exact for release versions). */
  readonly range: string;
  /** Whether a version (loose: `1.2`, `v1.2.3`) satisfies the constraint, prereleases included. */
  satisfiedBy(version: string): boolean;
}

interface ComparatorSet {
  /** node-semver comparators ANDed together. */
  range: string;
  /** Masterminds lets a prerelease through only when every comparator allows it. */
  prereleaseOk: boolean;
}

const PART = String.raw`[0-9]+|[xX*]`;
const VERSION = String.raw`v?(${PART})(?:\.(${PART}))?(?:\.(${PART}))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?`;
const OPERATOR = String.raw`!=|>=|=>|<=|=<|~>|>|<|=|~|\^`;
const COMPARATOR = new RegExp(String.raw`^\s*(${OPERATOR})?\s*${VERSION}`);
// The same version without capture groups, for the two sides of a hyphen range `A - B`.
const PLAIN_VERSION = VERSION.replace(/\((?!\?)/g, "(?:");
const HYPHEN = new RegExp(String.raw`(${PLAIN_VERSION})\s+-\s+(${PLAIN_VERSION})`, "g");

/** Parses a Masterminds constraint; throws DEPENDENCY_CONSTRAINT_INVALID when it is not one. */
export function parseConstraint(constraint: string): VersionConstraint {
  const sets: ComparatorSet[] = [];
  for (const part of constraint.replace(HYPHEN, ">= $1, <= $2").split("||")) {
    sets.push(...translateAndSet(part, constraint));
  }
  const range = sets.map((set) => set.range).join(" || ");
  return {
    source: constraint,
    range,
    satisfiedBy(version: string): boolean {
      const coerced = coerceVersion(version);
      if (coerced === undefined) return false;
      const isPrerelease = (semver.prerelease(coerced) ?? []).length > 0;
      return sets.some(
        (set) =>
          (!isPrerelease || set.prereleaseOk) &&
          semver.satisfies(coerced, set.range, { includePrerelease: set.prereleaseOk }),
      );
    },
  };
}

/** The node-semver range equivalent to a Masterminds constraint. */
export function mastermindsToSemverRange(constraint: string): string {
  return parseConstraint(constraint).range;
}

/**
 * A version as strict semver, accepting what Masterminds' `NewVersion` accepts: a leading `v` and
 * missing minor or patch (`v1.2` → `1.2.0`). Undefined when it is not a version.
 */
export function coerceVersion(version: string): string | undefined {
  const match = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.exec(version.trim());
  if (match === null) return undefined;
  const [, major, minor, patch, pre, build] = match;
  const numbers = [major, minor ?? "0", patch ?? "0"].map((n) => String(Number(n)));
  return semver.valid(`${numbers.join(".")}${pre ?? ""}${build ?? ""}`) ?? undefined;
}

/**
 * packit's reading of a requested version: `""` and `"default"` mean the buildpack's default for
 * the id (or `*`); `~> X.Y.Z` means `~X.Y.Z` while `~> X` and `~> X.Y` mean `^X` and `^X.Y`
 * (Ruby's pessimistic operator), where plain Masterminds would read every `~>` as `~`.
 */
export function packitConstraint(version: string, defaultVersion?: string): string {
  let constraint = version.trim();
  if (constraint === "" || constraint === "default") constraint = defaultVersion?.trim() || "*";
  if (!constraint.includes("~>")) return constraint;
  const rest = constraint.replaceAll("~>", "").trim();
  return `${rest.split(".").length === 3 ? "~" : "^"}${rest}`;
}

function translateAndSet(part: string, whole: string): ComparatorSet[] {
  let rest = part.trim() === "" ? "*" : part;
  let alternatives: string[][] = [[]];
  let prereleaseOk = true;
  let first = true;
  while (rest.trim() !== "") {
    if (!first) {
      const separator = /^(\s*,\s*|\s+)/.exec(rest);
      if (separator === null) throw invalid(whole, part);
      rest = rest.slice(separator[0].length);
    }
    const match = COMPARATOR.exec(rest);
    if (match === null) throw invalid(whole, part);
    rest = rest.slice(match[0].length);
    first = false;
    const { options, allowsPrerelease } = translateComparator(match);
    prereleaseOk &&= allowsPrerelease;
    alternatives = alternatives.flatMap((set) => options.map((option) => [...set, ...option]));
  }
  return alternatives.map((set) => ({ range: set.join(" ") || "*", prereleaseOk }));
}

/** One Masterminds comparator as OR-ed alternatives of AND-ed node-semver comparators. */
function translateComparator(match: RegExpExecArray): { options: string[][]; allowsPrerelease: boolean } {
  const op = match[1] ?? "";
  const wild = (part: string | undefined): boolean => part === undefined || /^[xX*]$/.test(part);
  const pre = match[5] ? `-${match[5]}` : "";
  const majorDirty = wild(match[2]);
  const minorDirty = !majorDirty && wild(match[3]);
  const patchDirty = !majorDirty && !minorDirty && wild(match[4]);
  const dirty = majorDirty || minorDirty || patchDirty;
  // Like Masterminds, everything after the first wildcard counts as zero: `x.1` is `0.0.0`.
  const M = majorDirty ? 0 : Number(match[2]);
  const m = majorDirty || minorDirty ? 0 : Number(match[3]);
  const p = dirty ? 0 : Number(match[4]);
  const con = `${M}.${m}.${p}${pre}`;
  const nextMajor = `${M + 1}.0.0-0`;
  const nextMinor = `${M}.${m + 1}.0-0`;
  const tilde = (): string[][] =>
    M === 0 && m === 0 && p === 0 && !minorDirty && !patchDirty
      ? [[`>=${con}`]]
      : [[`>=${con}`, `<${minorDirty ? nextMajor : nextMinor}`]];
  const options = ((): string[][] => {
    switch (op) {
      case "":
      case "=":
        return dirty ? tilde() : [[con]];
      case "~":
      case "~>":
        return tilde();
      case "^":
        if (M > 0 || minorDirty) return [[`>=${con}`, `<${nextMajor}`]];
        if (m > 0 || patchDirty) return [[`>=${con}`, `<${nextMinor}`]];
        return [[`>=${con}`, `<${M}.${m}.${p + 1}-0`]];
      case ">":
        if (minorDirty) return [[`>=${nextMajor}`]];
        if (patchDirty) return [[`>=${nextMinor}`]];
        return [[`>${con}`]];
      case "<":
        return [[`<${con}`]];
      case ">=":
      case "=>":
        return [[`>=${con}`]];
      case "<=":
      case "=<":
        if (!dirty) return [[`<=${con}`]];
        return [[`<${minorDirty ? nextMajor : nextMinor}`]];
      default: // "!="
        if (minorDirty) return [[`<${M}.0.0-0`], [`>=${nextMajor}`]];
        if (patchDirty) return [[`<${M}.${m}.0-0`], [`>=${nextMinor}`]];
        return [[`<${con}`], [`>${con}`]];
    }
  })();
  // Masterminds refuses prerelease versions unless the comparator has a prerelease itself; its
  // one exception is an exact `!=`, which checks equality only.
  return { options, allowsPrerelease: pre !== "" || (op === "!=" && !dirty) };
}

function invalid(whole: string, part: string): PolypackError {
  return new PolypackError(
    "DEPENDENCY_CONSTRAINT_INVALID",
    `invalid version constraint ${JSON.stringify(whole)}: cannot read ${JSON.stringify(part.trim())}`,
    { hint: 'write constraints such as "1.25.*", "~1.2.3", ">= 1.2, < 2" or "^20 || ^22"' },
  );
}
