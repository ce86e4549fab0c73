import { PolypackError } from "../errors/index.js";
import type { Layer } from "../image/blob.js";
import { configPlatform, imageFor, type Artifact, type Image, type Index } from "../image/image.js";
import { newIndex } from "../image/index-edit.js";
import { mutateImage } from "../image/mutate.js";
import type { LayerEntry } from "../layer/entry.js";
import { MediaType } from "../oci/media-types.js";
import { Platform, type PlatformJSON } from "../oci/platform.js";
import { addCnbAccount, type CnbAccount } from "./accounts.js";
import { readBaseFiles, requireDistro, type BaseFiles } from "./base-files.js";
import { checkBuildImage, checkRunImage, checkStackPair } from "./check.js";
import { BASE_LABELS, STACK_ID_LABEL, STACK_MIXINS_LABEL, type Distro } from "./labels.js";
import { memoryLayer } from "../image/memory-layer.js";

/** An upstream image or index, with the name the user gave it. */
export interface Upstream {
  name: string;
  artifact: Artifact;
}

/** What `createStack` makes. */
export interface StackCreateOptions {
  /** The upstream image (or multi-arch index) the build image is made from. */
  from: Upstream;
  /** The upstream the run image is made from (default: `from`). */
  runFrom?: Upstream;
  /** The platforms to make (default: every platform of `from`). */
  targets?: readonly Platform[];
  /** The CNB user and group (default 1000, 1000, both named `cnb`). */
  uid?: number;
  gid?: number;
  userName?: string;
  groupName?: string;
  /** Sets `io.buildpacks.stack.id` on both images and CNB_STACK_ID on the build image. */
  stackId?: string;
  /** Further labels for both images (the `io.buildpacks.base.*` metadata). */
  labels?: Readonly<Record<string, string>>;
}

/** One platform of a new stack. */
export interface StackTarget {
  /** The build image's platform (its config's). */
  platform: PlatformJSON;
  /** The run image's, which agrees on os, architecture and variant (it may say more). */
  runPlatform: PlatformJSON;
  build: Image;
  run: Image;
  distro: Distro;
}

/** A new stack: a build index and a run index, and what each platform holds. */
export interface StackImages {
  build: Index;
  run: Index;
  targets: StackTarget[];
  uid: number;
  gid: number;
}

/** The defaults of the CNB user, as Paketo's and pack's sample stacks have them. */
export const CNB_USER_DEFAULTS = { uid: 1000, gid: 1000, userName: "cnb", groupName: "cnb" } as const;

/**
 * Makes a CNB build image and run image for every target from upstream images, without a daemon:
 * per target, the upstream's image for that platform gets one new layer (its own /etc/passwd and
 * /etc/group with the CNB user and group appended, and the user's home directory owned by them),
 * `User` uid:gid, the distro labels from its /etc/os-release, the stack id when given, and, on the
 * build image, CNB_USER_ID and CNB_GROUP_ID (and CNB_STACK_ID). The upstream layers are kept by
 * reference: writing the result moves them only when the destination lacks them (and mounts them
 * within a registry). They are read once per upstream image, for the files. The result is checked
 * with checkBuildImage, checkRunImage and checkStackPair. Nothing is written here.
 */
export async function createStack(options: StackCreateOptions): Promise<StackImages> {
  const account: CnbAccount = {
    uid: options.uid ?? CNB_USER_DEFAULTS.uid,
    gid: options.gid ?? CNB_USER_DEFAULTS.gid,
    userName: options.userName ?? CNB_USER_DEFAULTS.userName,
    groupName: options.groupName ?? CNB_USER_DEFAULTS.groupName,
    home: `/home/${options.userName ?? CNB_USER_DEFAULTS.userName}`,
    shell: "/bin/sh",
  };
  const runFrom = options.runFrom ?? options.from;
  const platforms = options.targets?.length ? dedupe(options.targets) : await platformsOf(options.from);
  // One user layer per upstream image (shared by a build and a run image made from it), and one
  // decorated image per upstream image and role.
  const userLayers = new Map<string, Promise<{ layer: Layer; distro: Distro }>>();
  const decorated = new Map<string, Promise<{ image: Image; distro: Distro }>>();
  const decorate = async (upstream: Upstream, image: Image, platform: string, build: boolean) => {
    const digest = (await image.descriptor()).digest;
    let layer = userLayers.get(digest);
    if (!layer) {
      layer = userLayer(upstream, image, platform, account);
      userLayers.set(digest, layer);
    }
    const key = `${build ? "build" : "run"} ${digest}`;
    let made = decorated.get(key);
    if (!made) {
      const hasMixins = (await image.config()).config?.Labels?.[STACK_MIXINS_LABEL] !== undefined;
      made = layer.then(({ layer: added, distro }) => ({
        image: decoratedImage(image, added, stackLabels(distro, options, hasMixins), build, account, options),
        distro,
      }));
      decorated.set(key, made);
    }
    return await made;
  };
  const targets: StackTarget[] = [];
  for (const platform of platforms) {
    const label = platform.toString();
    const buildBase = await imageOf(options.from, platform);
    const runBase = await imageOf(runFrom, platform);
    const build = await decorate(options.from, buildBase, label, true);
    const run = await decorate(runFrom, runBase, label, false);
    const buildConfig = await build.image.config();
    checkBuildImage({ name: options.from.name, config: buildConfig }, label);
    checkRunImage({ name: runFrom.name, config: await run.image.config() }, label);
    checkStackPair(
      { name: options.from.name, config: buildConfig, distro: build.distro },
      { name: runFrom.name, config: await run.image.config(), distro: run.distro },
      label,
    );
    targets.push({
      platform: await configPlatform(build.image),
      runPlatform: await configPlatform(run.image),
      build: build.image,
      run: run.image,
      distro: build.distro,
    });
  }
  const index = async (which: "build" | "run", upstream: Upstream): Promise<Index> =>
    newIndex(
      targets.map((target) => ({
        artifact: target[which],
        platform: which === "build" ? target.platform : target.runPlatform,
      })),
      { format: await indexFormat(upstream) },
    );
  return {
    build: await index("build", options.from),
    run: await index("run", runFrom),
    targets,
    uid: account.uid,
    gid: account.gid,
  };
}

/** An upstream Docker manifest list gives Docker manifest lists; anything else OCI indexes. */
async function indexFormat(upstream: Upstream): Promise<"oci" | "docker"> {
  const { artifact } = upstream;
  if (artifact.kind === "index") {
    return (await artifact.index()).mediaType === MediaType.dockerManifestList ? "docker" : "oci";
  }
  return "oci";
}

/** Every platform of an upstream (attestation entries, `unknown/unknown`, left out). */
async function platformsOf(upstream: Upstream): Promise<Platform[]> {
  const { artifact } = upstream;
  if (artifact.kind === "image") return [Platform.fromJSON(await configPlatform(artifact))];
  const platforms: Platform[] = [];
  for (const entry of await artifact.entries()) {
    let declared = entry.descriptor.platform;
    if (declared === undefined) {
      const child = await entry.load();
      if (child.kind !== "image") continue;
      declared = await configPlatform(child);
    }
    if (declared.os === "unknown" || declared.architecture === "unknown") continue;
    platforms.push(Platform.fromJSON(declared));
  }
  if (platforms.length === 0) {
    throw new PolypackError(
      "IMAGE_NOT_FOUND",
      `${upstream.name} is an index without any image for a platform`,
    );
  }
  return dedupe(platforms);
}

/** The upstream's image for `platform`, or STACK_PLATFORM_MISSING naming both. */
async function imageOf(upstream: Upstream, platform: Platform): Promise<Image> {
  const { artifact } = upstream;
  let image: Image | undefined;
  if (artifact.kind === "image") {
    const own = Platform.fromJSON(await configPlatform(artifact));
    image = own.satisfies(platform) ? artifact : undefined;
  } else {
    image = await imageFor(artifact, platform);
  }
  if (image === undefined) {
    throw new PolypackError(
      "STACK_PLATFORM_MISSING",
      `${upstream.name} has no image for ${platform.toString()}`,
    );
  }
  return image;
}

/** An upstream image with the user layer, User, labels and (for a build image) the CNB env. */
function decoratedImage(
  image: Image,
  layer: Layer,
  labels: Record<string, string | undefined>,
  build: boolean,
  account: CnbAccount,
  options: StackCreateOptions,
): Image {
  return mutateImage(image, {
    add: [
      {
        layer,
        history: {
          created_by: `polypack stack create: user ${account.userName} (${account.uid}:${account.gid})`,
        },
      },
    ],
    user: `${account.uid}:${account.gid}`,
    labels,
    ...(build
      ? {
          env: {
            CNB_USER_ID: String(account.uid),
            CNB_GROUP_ID: String(account.gid),
            ...(options.stackId !== undefined ? { CNB_STACK_ID: options.stackId } : {}),
          },
        }
      : {}),
  });
}

/**
 * The labels of a decorated image. With a stack id, an image without mixins gets an empty
 * `io.buildpacks.stack.mixins` too: platforms before API 0.12 require the label beside the id.
 */
function stackLabels(
  distro: Distro,
  options: StackCreateOptions,
  hasMixins: boolean,
): Record<string, string | undefined> {
  return {
    ...(options.labels ?? {}),
    [BASE_LABELS.distroName]: distro.name,
    [BASE_LABELS.distroVersion]: distro.version,
    ...(options.stackId !== undefined ? { [STACK_ID_LABEL]: options.stackId } : {}),
    ...(options.stackId !== undefined && !hasMixins ? { [STACK_MIXINS_LABEL]: "[]" } : {}),
  };
}

/** The layer adding the CNB user to an upstream image, and the image's distro. */
async function userLayer(
  upstream: Upstream,
  image: Image,
  platform: string,
  account: CnbAccount,
): Promise<{ layer: Layer; distro: Distro }> {
  const files = await readBaseFiles(image, `${upstream.name} (${platform})`);
  const distro = requireDistro(files, upstream.name, platform);
  const { passwd, group } = addCnbAccount(
    { passwd: files.passwd.text, group: files.group.text },
    account,
    `${upstream.name} (${platform})`,
  );
  const manifest = await image.manifest();
  const docker = manifest.mediaType === MediaType.dockerManifest;
  const layer = await memoryLayer(userEntries(files, passwd, group, account), {
    ...(docker ? { mediaTypes: "docker" as const } : {}),
  });
  return { layer, distro };
}

/** The entries of the user layer: /etc and /home as upstream has them, the two files, the home folder. */
function userEntries(files: BaseFiles, passwd: string, group: string, account: CnbAccount): LayerEntry[] {
  const dir = (path: string): LayerEntry => {
    const found = files.directories.get(path);
    return {
      type: "directory",
      path,
      exactMode: found?.mode ?? 0o755,
      uid: found?.uid ?? 0,
      gid: found?.gid ?? 0,
    };
  };
  const file = (path: string, content: string, facts: BaseFiles["passwd"]): LayerEntry => ({
    type: "file",
    path,
    content,
    exactMode: facts.exists ? facts.mode : 0o644,
    uid: facts.uid,
    gid: facts.gid,
  });
  const home = account.home.replace(/^\/+/, "");
  return [
    dir("etc"),
    file("etc/passwd", passwd, files.passwd),
    file("etc/group", group, files.group),
    ...(home.startsWith("home/") ? [dir("home")] : []),
    { type: "directory", path: home, exactMode: 0o755, uid: account.uid, gid: account.gid },
  ];
}

function dedupe(platforms: readonly Platform[]): Platform[] {
  const unique: Platform[] = [];
  for (const platform of platforms) if (!unique.some((p) => p.equals(platform))) unique.push(platform);
  return unique;
}
