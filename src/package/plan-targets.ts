import {
  effectiveTargets,
  makeTarget,
  targetKey,
  targetsOverlap,
  type BuildpackDescriptor,
  type Distro,
  type PackageConfig,
  type Target,
} from "../buildpack/index.js";
import { PolypackError } from "../errors/index.js";
import { Platform } from "../oci/platform.js";

/** Where the targets being packaged came from. */
export type TargetOrigin =
  "flags" | "package.toml" | "buildpack.toml" | "stacks" | "dependencies" | "default";

/** One image to build: a concrete target with at most one distro, as pack expands them. */
export interface ImageTarget {
  /** The target with os and arch filled in and at most one distro. */
  target: Target;
  /** `targetKey` of the target, e.g. `linux/arm64` or `linux/amd64 (ubuntu@22.04)`. */
  key: string;
  /** The platform of the image (its config and its index entry); os.version is the distro version. */
  platform: Platform;
  /** Per-target source folders, shallowest first: `linux/arm`, `linux/arm/v6`, `linux/arm/v6/ubuntu@22.04`. */
  folders: string[];
  /** The OS-only folder (`linux`) pack falls back to when `os/arch` is absent. */
  osFolder: string;
}

/** The targets chosen for a package and why. */
export interface TargetSelection {
  targets: ImageTarget[];
  origin: TargetOrigin;
  notes: string[];
}

/**
 * Parses a `--target` value as pack writes it: `os/arch[/variant][:distro@version[;distro@version]]`.
 * Throws TARGET_INVALID naming the value.
 */
export function parseTargetFlag(value: string): Target {
  const [platformText = "", distroText, ...rest] = value.trim().split(":");
  const invalid = (why: string): PolypackError =>
    new PolypackError("TARGET_INVALID", `invalid --target ${JSON.stringify(value)}: ${why}`, {
      hint: "write os/arch[/variant][:distro@version], for example linux/arm64 or linux/amd64:ubuntu@22.04",
    });
  if (rest.length > 0) throw invalid("more than one ':'");
  let platform: Platform;
  try {
    platform = Platform.parse(platformText, "--target");
  } catch (error) {
    throw invalid(
      error instanceof Error ? error.message.replace(/^invalid platform "[^"]*" \(--target\): /, "") : "",
    );
  }
  const distros: Distro[] = (distroText ?? "")
    .split(";")
    .filter((part) => part.trim() !== "")
    .map((part) => {
      const [name = "", version = "", ...extra] = part.trim().split("@");
      if (name === "" || extra.length > 0)
        throw invalid(`distro ${JSON.stringify(part)} is not name@version`);
      return { name, version };
    });
  return makeTarget({ os: platform.os, arch: platform.architecture, variant: platform.variant, distros });
}

/**
 * Chooses the targets to package: `--target` flags, else package.toml's `[[targets]]`, else
 * buildpack.toml's, else what its stacks or a root `bin/` imply, else package.toml's `[platform] os`
 * on amd64, else linux/amd64 (pack's default). A flag that overlaps no declared target is packaged
 * with a note, as pack does; `strict` makes it TARGET_NOT_DECLARED. Targets with several distros
 * become one image per distro; an empty os or architecture becomes linux or amd64.
 */
export function selectTargets(
  descriptor: Pick<BuildpackDescriptor, "targets" | "stacks">,
  options: {
    flags?: readonly string[];
    packageConfig?: PackageConfig;
    hasRootBin: boolean;
    strict?: boolean;
    /** Whether the package is verified before it is written (the default); false drops that warning. */
    verify?: boolean;
    /** For a composite without targets: the platforms all its dependencies share. */
    dependencyPlatforms?: readonly Platform[];
  },
): TargetSelection {
  const notes: string[] = [];
  const declared =
    options.packageConfig && options.packageConfig.targets.length > 0
      ? { targets: options.packageConfig.targets, origin: "package.toml" as const }
      : descriptor.targets.length > 0
        ? { targets: descriptor.targets, origin: "buildpack.toml" as const }
        : undefined;
  let chosen: Target[];
  let origin: TargetOrigin;
  if (options.flags && options.flags.length > 0) {
    chosen = options.flags.map(parseTargetFlag);
    origin = "flags";
    if (declared) {
      for (const target of chosen) {
        if (!declared.targets.some((d) => targetsOverlap(target, d))) {
          const problem = `--target ${targetKey(target)} is not among the targets ${declared.origin} declares: ${declared.targets.map(targetKey).join(", ")}`;
          if (options.strict) {
            throw new PolypackError("TARGET_NOT_DECLARED", problem, {
              hint: `add a [[targets]] entry for it to ${declared.origin}, or choose a declared target`,
            });
          }
          // The buildpack.toml in its layer keeps the declared [[targets]], so verification (and a
          // lifecycle choosing buildpacks by target) would turn the target down after all the work:
          // refuse it now, before pre-package and layer writing.
          if (declared.origin === "buildpack.toml" && options.verify !== false) {
            throw new PolypackError(
              "TARGET_NOT_DECLARED",
              `${problem}, and verification would refuse it: the buildpack.toml in its layer does not list it either`,
              {
                hint: "add it to [[targets]] in buildpack.toml, or pass --no-verify to package it anyway, as pack does",
              },
            );
          }
          notes.push(`${problem}; packaging it anyway, as pack does (--strict refuses it)`);
        }
      }
    }
  } else if (declared) {
    chosen = declared.targets;
    origin = declared.origin;
  } else if (options.dependencyPlatforms && options.dependencyPlatforms.length > 0) {
    chosen = options.dependencyPlatforms.map((p) =>
      makeTarget({ os: p.os, arch: p.architecture, variant: p.variant }),
    );
    origin = "dependencies";
    notes.push(
      `no [[targets]] given: packaging the composite for ${chosen.map(targetKey).join(", ")}, the platforms all its dependencies share`,
    );
  } else {
    const implied = effectiveTargets(descriptor, { hasBin: options.hasRootBin });
    const os = options.packageConfig?.os ?? "linux";
    // A root bin/ implies linux/amd64 unless package.toml's [platform] says another os.
    const fromDescriptor = implied.targets.length > 0 && !(implied.source === "bin" && os !== "linux");
    chosen = fromDescriptor ? implied.targets : [makeTarget({ os, arch: "amd64" })];
    origin = implied.source === "stacks" ? "stacks" : "default";
  }
  const targets = uniqueTargets(chosen.flatMap((target) => expandTarget(target, notes)));
  return { targets, origin, notes };
}

/** The value of POLYPACK_TARGETS for the pre-package script: distinct `os/arch[/variant]`, space-separated. */
export function prePackageTargets(targets: readonly ImageTarget[]): string {
  return [...new Set(targets.map((t) => t.platform.with({ osVersion: "" }).toString()))].join(" ");
}

function expandTarget(target: Target, notes: string[]): ImageTarget[] {
  const { os, architecture, variant } = target.platform;
  if (os === "" || architecture === "") {
    notes.push(
      `target ${targetKey(target)} names no ${os === "" ? "operating system" : "architecture"}; packaging it for ` +
        `${os || "linux"}/${architecture || "amd64"} as pack does (pass --target to choose)`,
    );
  }
  const written = target.written ?? { architecture, variant };
  const base = { os: os || "linux", arch: written.architecture || "amd64", variant: written.variant };
  const distros: (Distro | undefined)[] = target.distros.length > 0 ? [...target.distros] : [undefined];
  return distros.map((distro) => {
    const concrete = makeTarget({ ...base, distros: distro ? [distro] : [] });
    return {
      target: concrete,
      key: targetKey(concrete),
      platform: concrete.platform,
      folders: targetFolders(concrete),
      osFolder: concrete.platform.os,
    };
  });
}

/**
 * Source folder candidates of a target below its OS folder, shallowest first (pack's
 * `os/arch/variant/distro@version`), named by the arch and variant as written (`linux/arm`, not
 * the normalised `linux/arm/v7`; `linux/arm64/v8`).
 */
export function targetFolders(target: Target): string[] {
  const { os } = target.platform;
  const { architecture, variant } = target.written ?? target.platform;
  const folders = [`${os}/${architecture}`];
  if (variant) folders.push(`${folders[0]}/${variant}`);
  const distro = target.distros[0];
  if (distro && distro.name) folders.push(`${folders[folders.length - 1]}/${distro.name}@${distro.version}`);
  return folders;
}

function uniqueTargets(targets: ImageTarget[]): ImageTarget[] {
  const byKey = new Map<string, ImageTarget>();
  const byPlatform = new Map<string, ImageTarget>();
  for (const target of targets) {
    if (byKey.has(target.key)) continue;
    const platformKey = JSON.stringify(target.platform.toJSON());
    const clash = byPlatform.get(platformKey);
    if (clash) {
      throw new PolypackError(
        "TARGET_DUPLICATE",
        `targets ${clash.key} and ${target.key} would both be images for ${target.platform.toString()}` +
          `${target.platform.osVersion ? ` ${target.platform.osVersion}` : ""}, which an image index cannot tell apart`,
        { hint: "package the two targets separately, or give their distros different versions" },
      );
    }
    byKey.set(target.key, target);
    byPlatform.set(platformKey, target);
  }
  return [...byKey.values()];
}
