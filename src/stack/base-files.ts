import { PolypackError } from "../errors/index.js";
import type { Image } from "../image/image.js";
import { distroFromLabels, type Distro } from "./labels.js";
import { distroFromOsRelease } from "./os-release.js";
import { readRootFiles, type RootEntry } from "./root-files.js";

/** The files of a base image a stack needs, read from its layers. */
export interface BaseFiles {
  /** /etc/passwd and /etc/group as they are (empty when missing), with their owner and mode. */
  passwd: FileFacts;
  group: FileFacts;
  /** The distro /etc/os-release (else /usr/lib/os-release) names, if either exists with an ID. */
  distro: Distro | undefined;
  /** The directories a new layer must repeat to hold /etc/passwd and /home/NAME (as they are). */
  directories: Map<string, Extract<RootEntry, { type: "directory" }>>;
}

/** A small text file and how it is stored. */
export interface FileFacts {
  text: string;
  mode: number;
  uid: number;
  gid: number;
  exists: boolean;
}

const OS_RELEASE = ["etc/os-release", "usr/lib/os-release"];

/**
 * Reads /etc/passwd, /etc/group and the os-release file of an image in one pass over its layers
 * (whiteouts honoured, links followed; see readRootFiles). `name` names the image in messages.
 */
export async function readBaseFiles(image: Image, name: string): Promise<BaseFiles> {
  const layers = await image.layers();
  const { files, entries } = await readRootFiles(layers, ["etc/passwd", "etc/group", ...OS_RELEASE], name, [
    "etc",
    "home",
  ]);
  const text = (path: string): FileFacts => {
    const file = files.get(path);
    if (file === undefined) return { text: "", mode: 0o644, uid: 0, gid: 0, exists: false };
    return {
      text: file.content.toString("utf8"),
      mode: file.mode,
      uid: file.uid,
      gid: file.gid,
      exists: true,
    };
  };
  const release = OS_RELEASE.map((path) => files.get(path)).find((file) => file !== undefined);
  const directories = new Map<string, Extract<RootEntry, { type: "directory" }>>();
  for (const path of ["etc", "home"]) {
    const entry = entries.get(path);
    if (entry?.type === "directory") directories.set(path, entry);
  }
  return {
    passwd: text("etc/passwd"),
    group: text("etc/group"),
    distro: release ? distroFromOsRelease(release.content.toString("utf8")) : undefined,
    directories,
  };
}

/**
 * The distro of a base image as the lifecycle finds it: the `io.buildpacks.base.distro.*` labels,
 * else `/etc/os-release` (then `/usr/lib/os-release`) read from its layers; undefined when
 * neither names one. Reads layers only when the labels are missing.
 */
export async function imageDistro(image: Image, name: string): Promise<Distro | undefined> {
  const labelled = distroFromLabels(await image.config());
  if (labelled) return labelled;
  const { files } = await readRootFiles(await image.layers(), OS_RELEASE, name);
  const release = OS_RELEASE.map((path) => files.get(path)).find((file) => file !== undefined);
  return release ? distroFromOsRelease(release.content.toString("utf8")) : undefined;
}

/** The distro of base files, or STACK_OS_RELEASE_MISSING naming the image. */
export function requireDistro(files: BaseFiles, name: string, platform: string): Distro {
  if (files.distro) return files.distro;
  throw new PolypackError(
    "STACK_OS_RELEASE_MISSING",
    `${name} (${platform}) has no /etc/os-release (nor /usr/lib/os-release) with an ID, so its distro cannot be labelled`,
  );
}
