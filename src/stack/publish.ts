import { PolypackError } from "../errors/index.js";
import { configPlatform, type Artifact, type Image, type Index } from "../image/image.js";
import { newIndex } from "../image/index-edit.js";
import type { ImageConfig } from "../oci/manifest.js";
import { Platform, type PlatformJSON } from "../oci/platform.js";
import { imageDistro } from "./base-files.js";
import { checkBuildImage, checkRunImage, checkStackPair } from "./check.js";
import { envValue, formatDistro, labelValue, STACK_ID_LABEL, type Distro } from "./labels.js";

/** An image or index given to `stack publish`, with the name the user gave it. */
export interface StackSource {
  name: string;
  artifact: Artifact;
}

/** One image of a source, with its platform. */
interface Member {
  name: string;
  image: Image;
  platform: PlatformJSON;
  key: string;
  config: ImageConfig;
  distro: Distro | undefined;
}

/** One platform of a published stack. */
export interface PublishedTarget {
  platform: PlatformJSON;
  build: Image;
  run: Image;
  distro: Distro | undefined;
}

/** The two indexes `stack publish` writes, and their platforms. */
export interface StackIndexes {
  build: Index;
  run: Index;
  targets: PublishedTarget[];
}

/**
 * Joins per-platform build and run images (each source an image, or an index whose images all
 * count) into a build index and a run index, after checking them: every build image passes
 * checkBuildImage and every run image checkRunImage; build and run images cover the same platforms
 * (else STACK_PLATFORM_MISSING) and each pair passes checkStackPair; and every platform carries the
 * same stack id (label and CNB_STACK_ID), distro and CNB user and group ids as the first (else
 * STACK_MISMATCH naming the platform and the label). Nothing is written here.
 */
export async function publishStack(
  buildSources: readonly StackSource[],
  runSources: readonly StackSource[],
): Promise<StackIndexes> {
  const builds = await membersOf(buildSources);
  const runs = await membersOf(runSources);
  for (const member of builds) checkBuildImage(member, member.key);
  for (const member of runs) checkRunImage(member, member.key);
  for (const [have, lack, kind] of [
    [builds, runs, "run"],
    [runs, builds, "build"],
  ] as const) {
    for (const member of have) {
      if (!lack.some((other) => other.key === member.key)) {
        throw new PolypackError(
          "STACK_PLATFORM_MISSING",
          `${member.name} is for ${member.key}, but no ${kind} image given is (${lack.map((m) => `${m.name}: ${m.key}`).join(", ")})`,
          { hint: `give a ${kind} image for ${member.key} too, or leave ${member.name} out` },
        );
      }
    }
  }
  const targets: PublishedTarget[] = [];
  for (const build of builds) {
    const run = runs.find((member) => member.key === build.key)!;
    checkStackPair(build, run, build.key);
    targets.push({ platform: build.platform, build: build.image, run: run.image, distro: build.distro });
  }
  checkAgreement(builds, "build");
  checkAgreement(runs, "run");
  return {
    build: newIndex(builds.map((m) => ({ artifact: m.image, platform: m.platform }))),
    run: newIndex(
      builds
        .map((b) => runs.find((r) => r.key === b.key)!)
        .map((m) => ({ artifact: m.image, platform: m.platform })),
    ),
    targets,
  };
}

/** The labels and variables that must be the same on every platform, with how to read each. */
const AGREEING: { what: string; kinds: ("build" | "run")[]; read: (m: Member) => string | undefined }[] = [
  {
    what: `label ${STACK_ID_LABEL}`,
    kinds: ["build", "run"],
    read: (m) => labelValue(m.config, STACK_ID_LABEL),
  },
  { what: "env CNB_STACK_ID", kinds: ["build"], read: (m) => envValue(m.config, "CNB_STACK_ID") },
  {
    what: "distro (io.buildpacks.base.distro.name and .version)",
    kinds: ["build", "run"],
    read: (m) => (m.distro ? formatDistro(m.distro) : undefined),
  },
  { what: "env CNB_USER_ID", kinds: ["build"], read: (m) => envValue(m.config, "CNB_USER_ID") },
  { what: "env CNB_GROUP_ID", kinds: ["build"], read: (m) => envValue(m.config, "CNB_GROUP_ID") },
  { what: "User", kinds: ["run"], read: (m) => m.config.config?.User },
];

function checkAgreement(members: readonly Member[], kind: "build" | "run"): void {
  const first = members[0];
  if (first === undefined) return;
  for (const { what, kinds, read } of AGREEING) {
    if (!kinds.includes(kind)) continue;
    const expected = read(first);
    for (const member of members.slice(1)) {
      const value = read(member);
      if (value !== expected) {
        const show = (v: string | undefined): string => (v === undefined ? "not set" : JSON.stringify(v));
        throw new PolypackError(
          "STACK_MISMATCH",
          `${kind} image ${member.name} for ${member.key} has ${what} ${show(value)}, but ${first.name} for ${first.key} has ${show(expected)}`,
        );
      }
    }
  }
}

/** Every image of the sources with its platform; two images for one platform are refused. */
async function membersOf(sources: readonly StackSource[]): Promise<Member[]> {
  const members: Member[] = [];
  for (const source of sources) {
    const found: { image: Image; platform: PlatformJSON | undefined }[] = [];
    if (source.artifact.kind === "image") found.push({ image: source.artifact, platform: undefined });
    else {
      for (const entry of await source.artifact.entries()) {
        const platform = entry.descriptor.platform;
        if (platform && (platform.os === "unknown" || platform.architecture === "unknown")) continue;
        const child = await entry.load();
        if (child.kind === "image") found.push({ image: child, platform });
      }
    }
    if (found.length === 0) {
      throw new PolypackError("IMAGE_NOT_FOUND", `${source.name} holds an index without any image manifest`);
    }
    for (const { image, platform: declared } of found) {
      const platform = declared ?? (await configPlatform(image));
      const key = Platform.fromJSON(platform).toString();
      const other = members.find((member) => member.key === key);
      if (other) {
        throw new PolypackError(
          "MANIFEST_PLATFORM_DUPLICATE",
          `${source.name} and ${other.name} both hold an image for ${key}`,
          { hint: "an index may list each platform once; drop one of the sources" },
        );
      }
      const config = await image.config();
      const name = source.name;
      members.push({
        name,
        image,
        platform,
        key,
        config,
        distro: await imageDistro(image, `${name} (${key})`),
      });
    }
  }
  return members;
}
