import type { ImageConfig } from "../oci/manifest.js";

/** The distribution a base image is built on, as `/etc/os-release` (ID, VERSION_ID) names it. */
export interface Distro {
  name: string;
  /** VERSION_ID; absent for a rolling distribution that has none. */
  version?: string | undefined;
}

/** Label names of the CNB platform spec for base images (Platform API 0.12 and later). */
export const BASE_LABELS = {
  distroName: "io.buildpacks.base.distro.name",
  distroVersion: "io.buildpacks.base.distro.version",
  id: "io.buildpacks.base.id",
  maintainer: "io.buildpacks.base.maintainer",
  homepage: "io.buildpacks.base.homepage",
  released: "io.buildpacks.base.released",
  description: "io.buildpacks.base.description",
  metadata: "io.buildpacks.base.metadata",
} as const;

/** The stack id label: deprecated since Platform API 0.12, still read by older platforms (and pack). */
export const STACK_ID_LABEL = "io.buildpacks.stack.id";

/** The mixins label (a JSON array of names) older platforms require beside the stack id. */
export const STACK_MIXINS_LABEL = "io.buildpacks.stack.mixins";

/** The value of one `NAME=value` variable of a config's Env, or undefined when it is not set. */
export function envValue(config: ImageConfig, name: string): string | undefined {
  for (const entry of config.config?.Env ?? []) {
    const eq = entry.indexOf("=");
    const key = eq < 0 ? entry : entry.slice(0, eq);
    if (key === name) return eq < 0 ? "" : entry.slice(eq + 1);
  }
  return undefined;
}

/** A config's label, or undefined. */
export function labelValue(config: ImageConfig, name: string): string | undefined {
  return config.config?.Labels?.[name];
}

/** The distro a config's `io.buildpacks.base.distro.*` labels name, or undefined without a name label. */
export function distroFromLabels(config: ImageConfig): Distro | undefined {
  const name = labelValue(config, BASE_LABELS.distroName);
  if (name === undefined || name === "") return undefined;
  const version = labelValue(config, BASE_LABELS.distroVersion);
  return { name, ...(version ? { version } : {}) };
}

/** `name@version` (or just the name), for messages; `none` when there is no distro. */
export function formatDistro(distro: Distro | undefined): string {
  if (distro === undefined) return "none";
  return distro.version ? `${distro.name}@${distro.version}` : distro.name;
}
