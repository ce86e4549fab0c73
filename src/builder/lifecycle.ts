import { parse as parseToml } from "smol-toml";
import { PolypackError } from "../errors/index.js";
import type { Layer } from "../image/blob.js";
import type { Image } from "../image/image.js";
import { readEntryContent, readLayer } from "../layer/read-layer.js";
import type { Platform } from "../oci/platform.js";
import { classifyProgram, describeProgram, runsOn } from "../verify/elf.js";

/** The default download base of lifecycle releases (GitHub release assets). */
export const LIFECYCLE_RELEASES = "https://github.com/buildpacks/lifecycle/releases/download";

/** The programs pack requires of every lifecycle. */
export const REQUIRED_LIFECYCLE_BINARIES = [
  "detector",
  "restorer",
  "analyzer",
  "builder",
  "exporter",
  "launcher",
  "creator",
];

/** The largest lifecycle file polypack reads (the real programs are tens of MiB). */
const MAX_LIFECYCLE_FILE = 512 * 1024 * 1024;

/** A set of API versions, as lifecycle.toml lists them. */
export interface ApiVersions {
  deprecated: string[];
  supported: string[];
}

/** What lifecycle.toml says, with pack's compatibility fields filled in. */
export interface LifecycleDescriptor {
  version: string;
  /** The earliest buildpack and platform APIs (pack's deprecated `api` field). */
  api: { buildpack: string; platform: string };
  apis: { buildpack: ApiVersions; platform: ApiVersions };
}

/** One program of the lifecycle, read into memory with its header facts. */
export interface LifecycleFile {
  name: string;
  content: Buffer;
  mode: number;
  /**
   * For a symbolic link: its target, another file of the folder (lifecycle releases ship one
   * `lifecycle` program and link the phases to it).
   */
  linkname?: string;
}

/** A lifecycle for one target: its descriptor and programs, and where they came from. */
export interface Lifecycle {
  descriptor: LifecycleDescriptor;
  files: LifecycleFile[];
  source: string;
  /**
   * Layers that hold exactly `/cnb/lifecycle` and can go into the builder as they are (from a
   * lifecycle image); absent when the lifecycle layer must be written.
   */
  layers?: Layer[];
}

/** What a lifecycle archive or image was found to hold, before it is checked. */
export interface LifecycleRead {
  descriptorText?: string;
  files: LifecycleFile[];
  layers?: Layer[];
}

/** The lifecycle release's name for an architecture: x86-64, arm64, ppc64le, s390x. */
export function releaseArchitecture(platform: Platform): string | undefined {
  switch (platform.architecture) {
    case "amd64":
      return "x86-64";
    case "arm64":
    case "ppc64le":
    case "s390x":
      return platform.architecture;
    default:
      return undefined;
  }
}

/** Where the release archive and checksums of lifecycle `version` are, for `platform`. */
export function releaseUrls(
  version: string,
  platform: Platform,
  mirror = LIFECYCLE_RELEASES,
): { archive: string; checksums: string; name: string } {
  const arch = releaseArchitecture(platform);
  if (arch === undefined || platform.os !== "linux") {
    throw new PolypackError(
      "LIFECYCLE_PLATFORM_MISSING",
      `lifecycle releases exist for linux on x86-64, arm64, ppc64le and s390x, not for ${platform.toString()}`,
      { hint: "give [lifecycle] uri with an archive built for that platform, or leave the target out" },
    );
  }
  const v = version.replace(/^v/, "");
  const base = `${mirror.replace(/\/+$/, "")}/v${v}`;
  const name = `lifecycle-v${v}+linux.${arch}.tgz`;
  return { archive: `${base}/${name}`, checksums: `${base}/lifecycle-v${v}-checksums.txt`, name };
}

/** Expands `{arch}` (release naming: x86-64, arm64 ...) and `{os}` in a lifecycle URI. */
export function expandLifecycleUri(uri: string, platform: Platform): string {
  if (!uri.includes("{")) return uri;
  const arch = releaseArchitecture(platform);
  if (arch === undefined && uri.includes("{arch}")) {
    throw new PolypackError(
      "LIFECYCLE_PLATFORM_MISSING",
      `no lifecycle architecture name for ${platform.toString()} to put into ${uri}`,
    );
  }
  return uri.replaceAll("{arch}", arch ?? "").replaceAll("{os}", platform.os);
}

/** The sha256 of `name` in a lifecycle checksums file (`<hex>  <name>` lines). */
export function checksumFor(checksums: string, name: string, where: string): string {
  for (const line of checksums.split("\n")) {
    const [hex, file] = line.trim().split(/\s+/);
    if (file?.replace(/^\*/, "") === name && hex !== undefined && /^[0-9a-f]{64}$/.test(hex))
      return `sha256:${hex}`;
  }
  throw new PolypackError("LIFECYCLE_INVALID", `${where} lists no checksum for ${name}`, {
    hint: "check the lifecycle version, or the mirror's copy of the release",
  });
}

/** Parses lifecycle.toml into a descriptor, as pack reads it (earliest API for the `api` field). */
export function parseLifecycleDescriptor(text: string, where: string): LifecycleDescriptor {
  let document: Record<string, unknown>;
  try {
    document = parseToml(text);
  } catch (error) {
    throw new PolypackError("LIFECYCLE_INVALID", `${where}: lifecycle.toml is not valid TOML`, {
      cause: error,
    });
  }
  const table = (value: unknown): Record<string, unknown> =>
    typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  const strings = (value: unknown): string[] =>
    Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
  const version = table(document["lifecycle"])["version"];
  if (typeof version !== "string" || version === "") {
    throw new PolypackError("LIFECYCLE_INVALID", `${where}: lifecycle.toml has no [lifecycle] version`);
  }
  const apis = table(document["apis"]);
  const set = (name: string): ApiVersions => ({
    deprecated: strings(table(apis[name])["deprecated"]),
    supported: strings(table(apis[name])["supported"]),
  });
  const buildpack = set("buildpack");
  const platform = set("platform");
  const legacy = table(document["api"]);
  if (buildpack.supported.length === 0 && typeof legacy["buildpack"] === "string") {
    buildpack.supported = [legacy["buildpack"]];
  }
  if (platform.supported.length === 0 && typeof legacy["platform"] === "string") {
    platform.supported = [legacy["platform"]];
  }
  if (buildpack.supported.length === 0 || platform.supported.length === 0) {
    throw new PolypackError(
      "LIFECYCLE_INVALID",
      `${where}: lifecycle.toml lists no supported buildpack or platform APIs`,
    );
  }
  return {
    version,
    api: {
      buildpack: earliest([...buildpack.deprecated, ...buildpack.supported]),
      platform: earliest([...platform.deprecated, ...platform.supported]),
    },
    apis: { buildpack, platform },
  };
}

function earliest(versions: readonly string[]): string {
  const key = (v: string): number[] => v.split(".").map((part) => Number(part));
  return [...versions].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      const d = (x[i] ?? 0) - (y[i] ?? 0);
      if (d !== 0) return d;
    }
    return 0;
  })[0]!;
}

/**
 * Reads a lifecycle release archive (`lifecycle.toml` at its root, the programs in its one top
 * folder) from a byte stream.
 */
export async function readLifecycleArchive(
  source: AsyncIterable<Uint8Array>,
  where: string,
): Promise<LifecycleRead> {
  const files: LifecycleFile[] = [];
  let descriptorText: string | undefined;
  for await (const entry of readLayer(source, { context: where })) {
    if (entry.path === "lifecycle.toml" && entry.type === "file") {
      descriptorText = (await readEntryContent(entry, 1024 * 1024)).toString("utf8");
      continue;
    }
    const match = /^[^/]+\/([^/]+)$/.exec(entry.path);
    if (match && entry.type === "symlink" && entry.linkname !== undefined) {
      files.push({ name: match[1]!, content: Buffer.alloc(0), mode: entry.mode, linkname: entry.linkname });
    } else if (match && entry.type === "file") {
      files.push({
        name: match[1]!,
        content: await readEntryContent(entry, MAX_LIFECYCLE_FILE),
        mode: entry.mode,
      });
    }
  }
  return { ...(descriptorText !== undefined ? { descriptorText } : {}), files };
}

/**
 * Reads the lifecycle out of an image such as `buildpacksio/lifecycle`: the files under
 * `/cnb/lifecycle/` (later layers win), lifecycle.toml among them.
 */
export async function readLifecycleImage(image: Image, where: string): Promise<LifecycleRead> {
  const files = new Map<string, LifecycleFile>();
  let descriptorText: string | undefined;
  const holding: { layer: Layer; pure: boolean }[] = [];
  for (const layer of await image.layers()) {
    let holds = false;
    let pure = true;
    for await (const entry of readLayer(await layer.open(), {
      context: `${where} layer ${layer.descriptor.digest}`,
    })) {
      const match = /^cnb\/lifecycle\/([^/]+)$/.exec(entry.path);
      if (match && entry.type === "symlink" && entry.linkname !== undefined) {
        holds = true;
        files.set(match[1]!, {
          name: match[1]!,
          content: Buffer.alloc(0),
          mode: entry.mode,
          linkname: entry.linkname,
        });
        continue;
      }
      if (!match || entry.type !== "file") {
        if (!["cnb", "cnb/lifecycle"].includes(entry.path) || entry.type !== "directory") pure = false;
        continue;
      }
      holds = true;
      if (match[1] === "lifecycle.toml") {
        descriptorText = (await readEntryContent(entry, 1024 * 1024)).toString("utf8");
      } else {
        files.set(match[1]!, {
          name: match[1]!,
          content: await readEntryContent(entry, MAX_LIFECYCLE_FILE),
          mode: entry.mode,
        });
      }
    }
    if (holds) holding.push({ layer, pure });
  }
  // One layer holding the lifecycle and nothing else is used as it is: mounted, never re-uploaded.
  const reusable = holding.length === 1 && holding[0]!.pure ? [holding[0]!.layer] : undefined;
  return {
    ...(descriptorText !== undefined ? { descriptorText } : {}),
    files: [...files.values()],
    ...(reusable ? { layers: reusable } : {}),
  };
  return { ...(descriptorText !== undefined ? { descriptorText } : {}), files: [...files.values()] };
}

/**
 * Checks a lifecycle read from `where` for `platform` and returns it: lifecycle.toml present and
 * valid, every program pack requires present, and every program built for the target's
 * architecture (ELF machine, class and byte order), never just named right.
 */
export function checkLifecycle(read: LifecycleRead, platform: Platform, where: string): Lifecycle {
  if (read.descriptorText === undefined) {
    throw new PolypackError("LIFECYCLE_INVALID", `${where} holds no lifecycle.toml`, {
      hint: "use a lifecycle release archive (lifecycle-v<V>+linux.<arch>.tgz) or image",
    });
  }
  const descriptor = parseLifecycleDescriptor(read.descriptorText, where);
  const names = new Set(read.files.map((file) => file.name));
  const missing = REQUIRED_LIFECYCLE_BINARIES.filter((name) => !names.has(name));
  if (missing.length > 0) {
    throw new PolypackError(
      "LIFECYCLE_INVALID",
      `${where} lacks the lifecycle programs ${missing.join(", ")}`,
    );
  }
  for (const file of read.files) {
    if (file.linkname !== undefined) {
      const target = read.files.find((other) => other.name === file.linkname && other.linkname === undefined);
      if (target === undefined) {
        throw new PolypackError(
          "LIFECYCLE_INVALID",
          `${where}: lifecycle/${file.name} links to ${JSON.stringify(file.linkname)}, which is not a program of the lifecycle`,
        );
      }
      continue;
    }
    const kind = classifyProgram(file.content.subarray(0, 64));
    if (kind.kind !== "elf" || !runsOn(kind, platform)) {
      throw new PolypackError(
        "LIFECYCLE_ARCHITECTURE_MISMATCH",
        `${where}: lifecycle/${file.name} is ${describeProgram(kind)}, not a program for ${platform.toString()}`,
        { hint: `use the lifecycle built for ${platform.architecture}` },
      );
    }
  }
  return {
    descriptor,
    files: [...read.files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    source: where,
    ...(read.layers ? { layers: read.layers } : {}),
  };
}
