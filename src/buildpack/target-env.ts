import { PolypackError } from "../errors/index.js";
import { Platform } from "../oci/platform.js";
import type { Target } from "./descriptor-types.js";
import { makeTarget } from "./targets.js";

/** Which input decided the target. */
export type TargetSelectionSource = "CNB_TARGET" | "BP_ARCH" | "host";

/** The target dependencies are resolved for, and why. */
export interface TargetSelection {
  target: Target;
  source: TargetSelectionSource;
}

/**
 * The target to install dependencies for: the lifecycle's `CNB_TARGET_*` variables (which describe
 * the image being built, even under emulation), else `BP_ARCH` (packit's override) on the host's
 * os, else the host. Unlike packit this reads `CNB_TARGET_ARCH` first, so an arm64 host building an
 * amd64 image gets amd64 binaries. Throws TARGET_ENV_INVALID for names it does not know.
 */
export function selectTarget(
  env: Readonly<Record<string, string | undefined>>,
  host: Platform,
): TargetSelection {
  const get = (name: string): string => env[name]?.trim() ?? "";
  const os = get("CNB_TARGET_OS");
  const arch = get("CNB_TARGET_ARCH");
  if (os !== "" || arch !== "") {
    check("CNB_TARGET_OS", os, `${os}/amd64`);
    check("CNB_TARGET_ARCH", arch, `linux/${arch}`);
    const distro = get("CNB_TARGET_DISTRO_NAME");
    const version = get("CNB_TARGET_DISTRO_VERSION");
    return {
      target: makeTarget({
        os: os || host.os,
        arch: arch || host.architecture,
        variant: arch ? get("CNB_TARGET_ARCH_VARIANT") : host.variant,
        distros: distro || version ? [{ name: distro, version }] : [],
      }),
      source: "CNB_TARGET",
    };
  }
  const bpArch = get("BP_ARCH");
  if (bpArch !== "") {
    check("BP_ARCH", bpArch, `linux/${bpArch}`);
    return { target: makeTarget({ os: host.os, arch: bpArch }), source: "BP_ARCH" };
  }
  return { target: { platform: host, distros: [] }, source: "host" };
}

function check(name: string, value: string, platform: string): void {
  if (value === "") return;
  try {
    Platform.parse(platform);
  } catch {
    throw new PolypackError(
      "TARGET_ENV_INVALID",
      `${name}=${JSON.stringify(value)} names no known platform`,
      {
        hint: "use Go's names, for example linux, amd64, arm64",
      },
    );
  }
}
