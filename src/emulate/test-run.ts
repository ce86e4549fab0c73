import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseEndpoint } from "../endpoints/endpoint.js";
import { readArtifact, type Artifact, type Image } from "../image/image.js";
import type { Platform } from "../oci/platform.js";
import { chooseEmulation } from "./emulator.js";
import { resolveInside } from "./inside.js";
import type { Distro } from "./invocation.js";
import { cachedRootfs } from "./rootfs.js";
import { runTarget, type TargetReport } from "./run-target.js";
import { artifactPlatforms, imageForPlatform, openTestSource, runOrder, type SourceHooks } from "./source.js";

/** What `polypack test` is asked to do. */
export interface TestOptions {
  /** A buildpack folder, `.cnb`, layout or image reference (a package or a builder). */
  source: string;
  /** The targets; default: every platform the source has. */
  targets: readonly Platform[];
  /** The build image whose root filesystem the programs run in. */
  buildImage?: string;
  appDir?: string;
  /** `--env` variables, for the platform folder and the programs' environment. */
  env: Record<string, string>;
  /** Keep each target's layers below this folder. */
  layersDir?: string;
  timeoutMs: number;
  /** Where root filesystems are cached. */
  cacheDir: string;
  onStep?: (what: string) => void;
}

/** The `--json` shape of `polypack test`. */
export interface TestReport {
  source: string;
  passed: boolean;
  targets: TargetReport[];
}

/**
 * Runs a buildpack's detect and build for each target on this machine (see runTarget), with the
 * build image's root filesystem for that platform when one is given, and reports per target.
 * Targets run one after another, so their output and timings stay apart.
 */
export async function testBuildpack(options: TestOptions, hooks: SourceHooks): Promise<TestReport> {
  const source = await openTestSource(options.source, options.targets, hooks);
  try {
    const buildImage = options.buildImage
      ? await readArtifact(await hooks.openSource(parseEndpoint(options.buildImage)))
      : undefined;
    const targets = options.targets.length > 0 ? options.targets : await artifactPlatforms(source.artifact);
    const reports: TargetReport[] = [];
    for (const platform of targets) {
      reports.push(await testTarget(platform, source.artifact, buildImage, options));
    }
    return { source: options.source, passed: reports.every((r) => r.passed), targets: reports };
  } finally {
    await source.close();
  }
}

async function testTarget(
  platform: Platform,
  artifact: Artifact,
  buildImage: Artifact | undefined,
  options: TestOptions,
): Promise<TargetReport> {
  const failed = (failure: string): TargetReport => ({
    platform: platform.toString(),
    emulation: "none",
    passed: false,
    failure,
    groups: [],
    builds: [],
    ms: 0,
  });
  const image = await imageForPlatform(artifact, platform);
  if (image === undefined) return failed(`${options.source} has no image for ${platform.toString()}`);
  const order = await runOrder(image, `${options.source} (${platform.toString()})`);
  let rootImage: Image | undefined;
  if (order.kind === "builder") {
    rootImage = image;
    if (options.buildImage !== undefined) {
      options.onStep?.(
        `warning: ${options.source} is a builder: its own root filesystem is used, not --build-image`,
      );
    }
  } else if (buildImage !== undefined) {
    rootImage = await imageForPlatform(buildImage, platform);
    if (rootImage === undefined) {
      return failed(`the build image ${options.buildImage ?? ""} has no image for ${platform.toString()}`);
    }
  }
  // Checked before any layer is unpacked: a missing emulator is named at once.
  const emulation = await chooseEmulation(platform, rootImage !== undefined);
  let rootfs: Parameters<typeof runTarget>[0]["rootfs"];
  let distro: Distro | undefined;
  if (rootImage !== undefined) {
    options.onStep?.(
      `${platform.toString()}: unpacking ${order.kind === "builder" ? "the builder" : "the build image"}`,
    );
    const made = await cachedRootfs(rootImage, join(options.cacheDir, "rootfs"));
    const config = await rootImage.config();
    rootfs = {
      path: made.path,
      image: (await rootImage.descriptor()).digest,
      reused: made.reused,
      env: config.config?.Env ?? [],
    };
    distro = await imageDistro(config.config?.Labels ?? {}, made.path);
  }
  return runTarget({
    platform,
    image,
    order,
    emulation,
    ...(rootfs ? { rootfs } : {}),
    buildpacksInRootfs: order.kind === "builder",
    ...(distro ? { distro } : {}),
    ...(options.appDir !== undefined ? { appDir: options.appDir } : {}),
    env: options.env,
    ...(options.layersDir !== undefined
      ? { keepLayers: join(options.layersDir, targetFolder(platform)) }
      : {}),
    timeoutMs: options.timeoutMs,
    ...(options.onStep ? { onStep: options.onStep } : {}),
  });
}

/** `<os>-<arch>[-<variant>]`, the folder a target's kept layers go to. */
export function targetFolder(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join("-");
}

/**
 * The distro a build image declares: its `io.buildpacks.base.distro.*` labels, else ID and
 * VERSION_ID of its /etc/os-release (read inside the root filesystem).
 */
export async function imageDistro(
  labels: Record<string, string>,
  rootfs: string,
): Promise<Distro | undefined> {
  const name = labels["io.buildpacks.base.distro.name"];
  const version = labels["io.buildpacks.base.distro.version"];
  if (name) return { name, version: version ?? "" };
  try {
    const path = await resolveInside(rootfs, "/etc/os-release", { followLast: true });
    const fields = parseOsRelease(await readFile(path, "utf8"));
    return fields["ID"] ? { name: fields["ID"], version: fields["VERSION_ID"] ?? "" } : undefined;
  } catch {
    return undefined;
  }
}

/** The KEY=value lines of an os-release file, quotes removed. */
export function parseOsRelease(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!match) continue;
    fields[match[1]!] = match[2]!.replace(/^(["'])(.*)\1$/, "$2");
  }
  return fields;
}
