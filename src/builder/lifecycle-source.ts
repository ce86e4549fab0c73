import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Dependency } from "../buildpack/dependencies.js";
import { downloadDependencies, type DownloadOptions } from "../dependencies/download.js";
import { downloadTooLarge } from "../dependencies/download-cap.js";
import { openHttp } from "../dependencies/http-source.js";
import { redactUrl } from "../http/redact.js";
import { parseEndpoint, type Endpoint } from "../endpoints/endpoint.js";
import { PolypackError } from "../errors/index.js";
import { artifactImageFor, readArtifact } from "../image/image.js";
import type { ContentSource } from "../oci/content.js";
import { Digest } from "../oci/digest.js";
import type { Platform } from "../oci/platform.js";
import { readCapped } from "../util/streams.js";
import {
  checkLifecycle,
  checksumFor,
  expandLifecycleUri,
  LIFECYCLE_RELEASES,
  readLifecycleArchive,
  readLifecycleImage,
  releaseUrls,
  type Lifecycle,
} from "./lifecycle.js";

/** The lifecycle version used when builder.toml names none (pack's default at the time of writing). */
export const DEFAULT_LIFECYCLE_VERSION = "0.20.5";

/** Where lifecycles come from. */
export interface LifecycleSourceOptions {
  /** `[lifecycle]` of builder.toml. */
  lifecycle: { version?: string; uri?: string };
  /** builder.toml's folder: relative paths are read from here. */
  dir: string;
  /** The download base of releases (`--lifecycle-mirror`, POLYPACK_LIFECYCLE_MIRROR): a URL or a folder. */
  mirror?: string;
  openSource(endpoint: Endpoint): Promise<ContentSource>;
  /** How release archives are downloaded into the checksum-keyed cache. */
  download: Omit<DownloadOptions, "baseDir">;
}

/**
 * A function giving the lifecycle for each target, read once per architecture: a release `version`
 * (the archive for that architecture, checked against the release's checksums file), a `docker://`
 * image (its child for that platform, never the host's), or an archive (`{arch}` expanded per
 * target). Every lifecycle is checked to be built for its target (see checkLifecycle): there is
 * never a fallback to another architecture.
 */
export function lifecycleResolver(
  options: LifecycleSourceOptions,
): (platform: Platform) => Promise<Lifecycle> {
  const found = new Map<string, Promise<Lifecycle>>();
  return (platform) => {
    const key = platform.with({ osVersion: "" }).toString();
    let lifecycle = found.get(key);
    if (!lifecycle) {
      lifecycle = load(options, platform);
      found.set(key, lifecycle);
    }
    return lifecycle;
  };
}

async function load(options: LifecycleSourceOptions, platform: Platform): Promise<Lifecycle> {
  const uri = options.lifecycle.uri;
  if (uri === undefined)
    return fromRelease(options, platform, options.lifecycle.version ?? DEFAULT_LIFECYCLE_VERSION);
  const expanded = expandLifecycleUri(uri, platform);
  if (expanded.startsWith("docker://")) {
    const name = expanded.slice("docker://".length);
    const root = await readArtifact(await options.openSource(parseEndpoint(name)));
    const image = await artifactImageFor(root, platform);
    if (!image) {
      throw new PolypackError(
        "LIFECYCLE_PLATFORM_MISSING",
        `lifecycle image ${name} has no image for ${platform.toString()}`,
        {
          hint: "use a lifecycle image published for this platform",
        },
      );
    }
    return checkLifecycle(
      await readLifecycleImage(image, `lifecycle image ${name}`),
      platform,
      `lifecycle image ${name} (${platform.toString()})`,
    );
  }
  if (/^https?:\/\//i.test(expanded)) {
    const body = await downloadWhole(options, new URL(expanded));
    return checkLifecycle(await readLifecycleArchive(Readable.from([body]), expanded), platform, expanded);
  }
  const path = expanded.startsWith("file://") ? fileURLToPath(expanded) : resolve(options.dir, expanded);
  return checkLifecycle(await readLifecycleArchive(createReadStream(path), path), platform, path);
}

async function fromRelease(
  options: LifecycleSourceOptions,
  platform: Platform,
  version: string,
): Promise<Lifecycle> {
  const mirror = mirrorBase(
    options.mirror ?? process.env["POLYPACK_LIFECYCLE_MIRROR"] ?? LIFECYCLE_RELEASES,
    options.dir,
  );
  const urls = releaseUrls(version, platform, mirror);
  const checksums = await readText(options, urls.checksums);
  const checksum = Digest.parse(checksumFor(checksums, urls.name, urls.checksums));
  const dependency: Dependency = {
    index: 0,
    id: "lifecycle",
    version,
    uri: urls.archive,
    stacks: [],
    os: "linux",
    architecture: platform.architecture,
    variant: "",
    distros: [],
    architectureSource: "none",
    checksum,
    checksumKey: "checksum",
    raw: {},
  };
  const [downloaded] = await downloadDependencies([{ dependency, target: platform.toString() }], {
    ...options.download,
    baseDir: options.dir,
  });
  const path = downloaded!.path;
  return checkLifecycle(
    await readLifecycleArchive(createReadStream(path), urls.archive),
    platform,
    urls.archive,
  );
}

/** A mirror given as a folder becomes a `file://` URL; URLs stay as they are. */
function mirrorBase(mirror: string, dir: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(mirror)) return mirror;
  return pathToFileURL(isAbsolute(mirror) ? mirror : resolve(dir, mirror)).href;
}

async function readText(options: LifecycleSourceOptions, url: string): Promise<string> {
  if (url.startsWith("file://")) {
    try {
      return await readFile(fileURLToPath(url), "utf8");
    } catch (error) {
      throw new PolypackError("LIFECYCLE_NOT_FOUND", `cannot read ${fileURLToPath(url)}`, {
        cause: error,
        hint: "check the lifecycle version and --lifecycle-mirror",
      });
    }
  }
  return (await downloadWhole(options, new URL(url), 1024 * 1024)).toString("utf8");
}

async function downloadWhole(
  options: LifecycleSourceOptions,
  url: URL,
  cap = 512 * 1024 * 1024,
): Promise<Buffer> {
  const { createHttpStack } = await import("../http/stack.js");
  const { downloadErrors } = await import("../dependencies/http-source.js");
  const idleTimeoutMs = options.download.idleTimeoutMs ?? 60_000;
  const stack = createHttpStack({
    errors: downloadErrors,
    timeoutMs: idleTimeoutMs,
    ...(options.download.caFile ? { caFile: options.download.caFile } : {}),
  });
  try {
    const opened = await openHttp(url, { stack: () => Promise.resolve(stack), idleTimeoutMs, maxBytes: cap });
    return await readCapped(opened.stream, cap, {
      ...(opened.size !== undefined ? { declaredSize: opened.size } : {}),
      tooLarge: (declared) => downloadTooLarge(cap, declared),
    });
  } catch (error) {
    if (error instanceof PolypackError && error.code === "SIZE_EXCEEDED") {
      throw new PolypackError("SIZE_EXCEEDED", `cannot download ${redactUrl(url)}: ${error.message}`, {
        cause: error,
        hint: "check the lifecycle uri and --lifecycle-mirror",
      });
    }
    if (error instanceof PolypackError && error.code === "DEPENDENCY_DOWNLOAD_FAILED") {
      throw new PolypackError("LIFECYCLE_NOT_FOUND", `cannot download ${redactUrl(url)}: ${error.message}`, {
        cause: error,
        hint: "check the lifecycle version and --lifecycle-mirror",
      });
    }
    throw error;
  } finally {
    await stack.close();
  }
}
