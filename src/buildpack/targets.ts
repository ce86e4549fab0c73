import { Platform } from "../oci/platform.js";
import type { BuildpackDescriptor, Distro, Stack, Target } from "./descriptor-types.js";

/** The only stack id the lifecycle maps to a concrete target. */
export const BIONIC_STACK_ID = "io.buildpacks.stacks.bionic";

/** Where the targets of a buildpack came from, see `effectiveTargets`. */
export type TargetSource = "targets" | "stacks" | "bin" | "none";

/** Builds a Target from loose fields; aliases are normalised (x86_64 → amd64). */
export function makeTarget(fields: {
  os?: string;
  arch?: string;
  variant?: string;
  distros?: readonly Distro[];
}): Target {
  const distros = (fields.distros ?? []).map((d) => ({ name: d.name, version: d.version }));
  const only = distros.length === 1 ? (distros[0]?.version ?? "") : "";
  const platform = new Platform({
    os: fields.os,
    architecture: fields.arch,
    variant: fields.variant,
    osVersion: only,
  });
  const written = { architecture: fields.arch ?? "", variant: fields.variant ?? "" };
  // Per-target folders are named as written (pack's linux/arm, linux/arm64/v8), not as normalised.
  const changed = written.architecture === platform.architecture && written.variant !== platform.variant;
  return changed ? { platform, distros, written } : { platform, distros };
}

/** A Target from a Platform; its os.version, when set, stays on the platform but adds no distro. */
export function targetFromPlatform(platform: Platform, distros: readonly Distro[] = []): Target {
  return { platform, distros: [...distros] };
}

/** A stable, readable key: `linux/arm64`, `linux/*`, `linux/amd64 (ubuntu@18.04)`; equal targets, equal keys. */
export function targetKey(target: Target): string {
  const { os, architecture, variant } = target.platform;
  const base = `${os || "*"}/${architecture || "*"}${variant ? `/${variant}` : ""}`;
  const distros = target.distros
    .map((d) => `${d.name.toLowerCase()}${d.version ? `@${d.version}` : ""}`)
    .sort()
    .join(", ");
  return distros ? `${base} (${distros})` : base;
}

/**
 * Whether two os/arch/variant triples can describe the same machine (Platform.overlaps: an empty
 * field matches anything). os.version is left out: distros carry it, see distrosOverlap.
 */
export function platformsOverlap(
  a: { os: string; architecture: string; variant: string },
  b: { os: string; architecture: string; variant: string },
): boolean {
  const triple = ({ os, architecture, variant }: typeof a): Platform =>
    new Platform({ os, architecture, variant });
  return triple(a).overlaps(triple(b));
}

/** Whether two distro lists overlap; an empty list, name or version matches anything. */
export function distrosOverlap(a: readonly Distro[], b: readonly Distro[]): boolean {
  if (a.length === 0 || b.length === 0) return true;
  return a.some((x) =>
    b.some(
      (y) =>
        (x.name === "" || y.name === "" || x.name.toLowerCase() === y.name.toLowerCase()) &&
        (x.version === "" || y.version === "" || x.version === y.version),
    ),
  );
}

/** Whether two targets overlap (platform and distros). */
export function targetsOverlap(a: Target, b: Target): boolean {
  return platformsOverlap(a.platform, b.platform) && distrosOverlap(a.distros, b.distros);
}

/**
 * The targets implied by deprecated stacks: `io.buildpacks.stacks.bionic` is linux/amd64 on
 * ubuntu 18.04 (the lifecycle's rule); any other stack id, `*` included, is linux on any architecture,
 * because every stack is a Linux image but its id says nothing about the CPU.
 */
export function targetsFromStacks(stacks: readonly Stack[]): Target[] {
  const out = new Map<string, Target>();
  for (const stack of stacks) {
    const target =
      stack.id === BIONIC_STACK_ID
        ? makeTarget({ os: "linux", arch: "amd64", distros: [{ name: "ubuntu", version: "18.04" }] })
        : makeTarget({ os: "linux" });
    out.set(targetKey(target), target);
  }
  return [...out.values()];
}

/**
 * The targets a buildpack supports: its `[[targets]]`; else those its stacks imply; else, for a
 * buildpack with a `bin/` folder, linux/amd64 (what pack accepts; the lifecycle would allow any
 * Linux architecture); else none (a composite buildpack takes its children's targets).
 */
export function effectiveTargets(
  descriptor: Pick<BuildpackDescriptor, "targets" | "stacks">,
  options: { hasBin: boolean },
): { targets: Target[]; source: TargetSource } {
  if (descriptor.targets.length > 0) return { targets: descriptor.targets, source: "targets" };
  const fromStacks = targetsFromStacks(descriptor.stacks);
  if (fromStacks.length > 0) return { targets: fromStacks, source: "stacks" };
  if (options.hasBin) return { targets: [makeTarget({ os: "linux", arch: "amd64" })], source: "bin" };
  return { targets: [], source: "none" };
}

/** Accepts a Target or a bare Platform (a Platform has no distros). */
export function asTarget(target: Target | Platform): Target {
  return target instanceof Platform ? { platform: target, distros: [] } : target;
}
