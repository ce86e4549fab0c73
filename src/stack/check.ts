import { PolypackError } from "../errors/index.js";
import type { ImageConfig } from "../oci/manifest.js";
import { Platform } from "../oci/platform.js";
import { distroFromLabels, envValue, formatDistro, type Distro } from "./labels.js";

/** The CNB user of a build image: CNB_USER_ID and CNB_GROUP_ID. */
export interface CnbUser {
  uid: number;
  gid: number;
}

/** A build or run image as the checks see it: what to call it, its config, and its distro. */
export interface BaseImageFacts {
  /** The image as the user named it (a reference, `oci:DIR:REF`), for messages. */
  name: string;
  config: ImageConfig;
  /**
   * Its distro, when the caller read it (see imageDistro: labels, else `/etc/os-release`); when
   * left out, the `io.buildpacks.base.distro.*` labels are taken.
   */
  distro?: Distro | undefined;
}

// Largest id a Linux uid_t or gid_t holds, less the "no id" value (uint32 max).
const MAX_ID = 2 ** 32 - 2;

/**
 * Checks a build image config against the CNB platform spec and returns its CNB user: the Env sets
 * CNB_USER_ID and CNB_GROUP_ID to integers, neither 0; `User` names a user that is not root (when
 * numeric, the same uid and gid as CNB_USER_ID and CNB_GROUP_ID); PATH is set; os and architecture
 * are set. Throws BUILD_IMAGE_INVALID naming the image, the key at fault and `platform` when given.
 * `builder create` and `stack create`/`stack publish` share it.
 */
export function checkBuildImage(image: Omit<BaseImageFacts, "distro">, platform?: string): CnbUser {
  const { config } = image;
  const at = where(image.name, platform);
  checkPlatformFields(image, "build", platform);
  const id = (key: "CNB_USER_ID" | "CNB_GROUP_ID"): number => {
    const value = envValue(config, key);
    if (value === undefined) {
      throw invalid(`build image ${at} does not set ${key} in its Env`, "build");
    }
    if (!/^\d+$/.test(value) || Number(value) > MAX_ID) {
      throw invalid(`build image ${at} sets ${key}=${value}, which is not a user or group id`, "build");
    }
    if (Number(value) === 0) {
      throw invalid(`build image ${at} sets ${key}=0: buildpacks would run as root`, "build");
    }
    return Number(value);
  };
  const user: CnbUser = { uid: id("CNB_USER_ID"), gid: id("CNB_GROUP_ID") };
  const field = config.config?.User ?? "";
  const [name = "", group] = field.split(":");
  if (name === "" || name === "root" || name === "0") {
    const what = field === "" ? "has no User, so it runs as root" : `has User ${field}, which is root`;
    throw invalid(`build image ${at} ${what}`, "build");
  }
  if (/^\d+$/.test(name) && Number(name) !== user.uid) {
    throw invalid(`build image ${at} has User ${field}, but CNB_USER_ID is ${user.uid}`, "build");
  }
  if (group !== undefined && /^\d+$/.test(group) && Number(group) !== user.gid) {
    throw invalid(`build image ${at} has User ${field}, but CNB_GROUP_ID is ${user.gid}`, "build");
  }
  checkPath(image, "build", platform);
  return user;
}

/**
 * Checks a run image config against the CNB platform spec: os and architecture set, PATH set.
 * Throws RUN_IMAGE_INVALID naming the image and the key.
 */
export function checkRunImage(image: Omit<BaseImageFacts, "distro">, platform?: string): void {
  checkPlatformFields(image, "run", platform);
  checkPath(image, "run", platform);
}

/**
 * Checks that a build image and a run image can be used together, as the CNB platform spec asks:
 * the same os, architecture and variant, and the same distro (name and version; see
 * BaseImageFacts.distro). Throws STACK_MISMATCH naming both images, the platform when given,
 * and the field and values that differ. Does not check each image alone: see checkBuildImage and
 * checkRunImage.
 */
export function checkStackPair(build: BaseImageFacts, run: BaseImageFacts, platform?: string): void {
  const a = Platform.fromJSON(build.config);
  const b = Platform.fromJSON(run.config);
  const pair = `build image ${build.name} and run image ${run.name}${platform ? ` (${platform})` : ""}`;
  for (const [field, x, y] of [
    ["os", a.os, b.os],
    ["architecture", a.architecture, b.architecture],
    ["variant", a.variant, b.variant],
  ] as const) {
    if (x !== y) {
      throw new PolypackError(
        "STACK_MISMATCH",
        `${pair} have different ${field}: ${x || "none"} and ${y || "none"}`,
      );
    }
  }
  const buildDistro = build.distro ?? distroFromLabels(build.config);
  const runDistro = run.distro ?? distroFromLabels(run.config);
  if (buildDistro?.name !== runDistro?.name || (buildDistro?.version ?? "") !== (runDistro?.version ?? "")) {
    throw new PolypackError(
      "STACK_MISMATCH",
      `${pair} have different distros (io.buildpacks.base.distro.name and .version): ${formatDistro(buildDistro)} and ${formatDistro(runDistro)}`,
      { hint: "build and run images must come from the same distribution and release" },
    );
  }
}

function checkPlatformFields(
  image: Omit<BaseImageFacts, "distro">,
  kind: "build" | "run",
  platform: string | undefined,
): void {
  for (const key of ["os", "architecture"] as const) {
    if (!image.config[key]) {
      throw invalid(`${kind} image ${where(image.name, platform)} has no ${key} in its config`, kind);
    }
  }
}

function checkPath(image: Omit<BaseImageFacts, "distro">, kind: "build" | "run", platform?: string): void {
  if (!envValue(image.config, "PATH")) {
    throw invalid(`${kind} image ${where(image.name, platform)} does not set PATH in its Env`, kind);
  }
}

function where(name: string, platform: string | undefined): string {
  return platform ? `${name} (${platform})` : name;
}

function invalid(message: string, kind: "build" | "run"): PolypackError {
  if (kind === "run") return new PolypackError("RUN_IMAGE_INVALID", message);
  return new PolypackError("BUILD_IMAGE_INVALID", message, {
    hint: "a build image needs CNB_USER_ID and CNB_GROUP_ID (integers, not 0), a non-root User and PATH; `polypack stack create` adds them",
  });
}
