import type { Platform } from "../oci/platform.js";
import type { Dependency } from "./dependencies.js";
import type { BuildpackDescriptor, Target } from "./descriptor-types.js";
import { asTarget, distrosOverlap, platformsOverlap } from "./targets.js";

/**
 * Whether a dependency can be installed on a target: os, architecture, variant and distros must
 * agree where both sides name them; an empty field on either side matches anything, so an
 * architecture-independent dependency goes to every target.
 */
export function dependencyMatchesTarget(dependency: Dependency, target: Target | Platform): boolean {
  const { platform, distros } = asTarget(target);
  return platformsOverlap(dependency, platform) && distrosOverlap(dependency.distros, distros);
}

/** The `[[metadata.dependencies]]` of a buildpack that apply to one target, in file order. */
export function filterDependencies(
  descriptor: Pick<BuildpackDescriptor, "metadata">,
  target: Target | Platform,
): Dependency[] {
  return descriptor.metadata.dependencies.filter((dependency) => dependencyMatchesTarget(dependency, target));
}

/** Whether a dependency names an architecture (and so belongs to some targets only). */
export function isArchitectureSpecific(dependency: Dependency): boolean {
  return dependency.architecture !== "";
}
