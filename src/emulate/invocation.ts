import type { Platform } from "../oci/platform.js";

/** Where the lifecycle's directories are, as the buildpack sees them (inside the root filesystem). */
export interface RunPaths {
  /** The buildpack's own folder, `/cnb/buildpacks/<escaped id>/<version>`. */
  buildpackDir: string;
  /** The application, `/workspace`. */
  appDir: string;
  /** The platform folder, `/platform`, with `env/`. */
  platformDir: string;
  /** This buildpack's layers folder, `/layers/<escaped id>`. */
  layersDir: string;
  /** Where detect writes its build plan. */
  detectPlanPath: string;
  /** Where build reads its buildpack plan. */
  buildPlanPath: string;
}

/** The distro a target's build image declares (labels or `/etc/os-release`). */
export interface Distro {
  name: string;
  version: string;
}

/** One program run: its path, arguments, working directory and the CNB variables to set. */
export interface Invocation {
  program: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

/** `major.minor` as a comparable pair; a version that is not one sorts as 0.0. */
export function apiVersion(api: string): [number, number] {
  const match = /^(\d+)\.(\d+)$/.exec(api.trim());
  return match ? [Number(match[1]), Number(match[2])] : [0, 0];
}

/** Whether Buildpack API `api` is at least `major.minor`. */
export function apiAtLeast(api: string, major: number, minor: number): boolean {
  const [a, b] = apiVersion(api);
  return a > major || (a === major && b >= minor);
}

/**
 * `bin/detect` as the lifecycle starts it: the platform folder and the plan path as arguments (all
 * APIs), CNB_BUILDPACK_DIR, then CNB_PLATFORM_DIR and CNB_BUILD_PLAN_PATH from API 0.8 and the
 * CNB_TARGET_* variables from API 0.10. The working directory is the application.
 */
export function detectInvocation(
  api: string,
  paths: RunPaths,
  platform: Platform,
  distro?: Distro,
): Invocation {
  const env: Record<string, string> = { CNB_BUILDPACK_DIR: paths.buildpackDir };
  if (apiAtLeast(api, 0, 8)) {
    env["CNB_PLATFORM_DIR"] = paths.platformDir;
    env["CNB_BUILD_PLAN_PATH"] = paths.detectPlanPath;
  }
  Object.assign(env, targetEnv(api, platform, distro));
  return {
    program: `${paths.buildpackDir}/bin/detect`,
    args: [paths.platformDir, paths.detectPlanPath],
    cwd: paths.appDir,
    env,
  };
}

/**
 * `bin/build` as the lifecycle starts it: layers folder, platform folder and plan path as
 * arguments, CNB_BUILDPACK_DIR, then CNB_LAYERS_DIR, CNB_PLATFORM_DIR and CNB_BP_PLAN_PATH from API
 * 0.8 and the CNB_TARGET_* variables from API 0.10.
 */
export function buildInvocation(
  api: string,
  paths: RunPaths,
  platform: Platform,
  distro?: Distro,
): Invocation {
  const env: Record<string, string> = { CNB_BUILDPACK_DIR: paths.buildpackDir };
  if (apiAtLeast(api, 0, 8)) {
    env["CNB_LAYERS_DIR"] = paths.layersDir;
    env["CNB_PLATFORM_DIR"] = paths.platformDir;
    env["CNB_BP_PLAN_PATH"] = paths.buildPlanPath;
  }
  Object.assign(env, targetEnv(api, platform, distro));
  return {
    program: `${paths.buildpackDir}/bin/build`,
    args: [paths.layersDir, paths.platformDir, paths.buildPlanPath],
    cwd: paths.appDir,
    env,
  };
}

// The target variables exist from Buildpack API 0.10; an empty variant or unknown distro is left
// unset rather than set empty, as the lifecycle does.
function targetEnv(api: string, platform: Platform, distro?: Distro): Record<string, string> {
  if (!apiAtLeast(api, 0, 10)) return {};
  const env: Record<string, string> = {
    CNB_TARGET_OS: platform.os,
    CNB_TARGET_ARCH: platform.architecture,
  };
  if (platform.variant) env["CNB_TARGET_ARCH_VARIANT"] = platform.variant;
  if (distro?.name) env["CNB_TARGET_DISTRO_NAME"] = distro.name;
  if (distro?.version) env["CNB_TARGET_DISTRO_VERSION"] = distro.version;
  return env;
}

/** Which layer types a `<layer>.toml` sets: `[types]` from API 0.6, top-level keys before. */
export function layerTypes(api: string, document: Record<string, unknown>): LayerTypes {
  const table = apiAtLeast(api, 0, 6) ? document["types"] : document;
  const read = (key: string): boolean =>
    typeof table === "object" && table !== null && (table as Record<string, unknown>)[key] === true;
  return { launch: read("launch"), build: read("build"), cache: read("cache") };
}

/** The three flags of a layer. */
export interface LayerTypes {
  launch: boolean;
  build: boolean;
  cache: boolean;
}
