import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { extract } from "tar-stream";
import type { Image, Index } from "../../src/image/image.js";
import { newIndex } from "../../src/image/index-edit.js";
import { memoryLayer } from "../../src/image/memory-layer.js";
import { emptyImage, mutateImage } from "../../src/image/mutate.js";
import type { LayerEntry } from "../../src/layer/entry.js";
import { layerBytes } from "./layer-bytes.js";
import { run } from "./tools.js";

const execFileAsync = promisify(execFile);

/** The architectures the tests build base images, lifecycles and buildpacks for. */
export type TestArch = "amd64" | "arm64";
/** Both test architectures, amd64 first. */
export const TEST_ARCHES: readonly TestArch[] = ["amd64", "arm64"];

/**
 * Where scripts/install-system-deps.sh leaves Debian's busybox-static packages for both
 * architectures (`apt-get download`, after `dpkg --add-architecture arm64`).
 */
export const TEST_DEBS_DIR = process.env["POLYPACK_TEST_DEBS"] ?? "/var/cache/polypack-test-debs";

const busyboxes = new Map<TestArch, Promise<Buffer>>();

/** The static busybox program of Debian's busybox-static package for `arch`. */
export function busyboxBinary(arch: TestArch): Promise<Buffer> {
  let found = busyboxes.get(arch);
  if (!found) {
    found = readBusybox(arch);
    busyboxes.set(arch, found);
  }
  return found;
}

async function readBusybox(arch: TestArch): Promise<Buffer> {
  const names = existsSync(TEST_DEBS_DIR) ? await readdir(TEST_DEBS_DIR) : [];
  const deb = names.find((name) => name.startsWith("busybox-static_") && name.endsWith(`_${arch}.deb`));
  if (deb === undefined) {
    throw new Error(
      `no busybox-static ${arch} package in ${TEST_DEBS_DIR}: run scripts/install-system-deps.sh as root`,
    );
  }
  const { stdout } = await execFileAsync("dpkg-deb", ["--fsys-tarfile", join(TEST_DEBS_DIR, deb)], {
    encoding: "buffer",
    maxBuffer: 64 * 1024 * 1024,
  });
  return await new Promise<Buffer>((resolve, reject) => {
    const tar = extract();
    let found: Buffer | undefined;
    tar.on("entry", (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: unknown) => chunks.push(chunk as Buffer));
      stream.on("end", () => {
        if (header.name === "./bin/busybox") found = Buffer.concat(chunks);
        next();
      });
    });
    tar.on("finish", () => (found ? resolve(found) : reject(new Error(`${deb} holds no ./bin/busybox`))));
    tar.on("error", reject);
    tar.end(stdout);
  });
}

/** A layer held in memory (see src/image/memory-layer.ts), re-exported for the tests. */
export { memoryLayer } from "../../src/image/memory-layer.js";

/** How a test base image is made. */
export interface BaseImageOptions {
  /** `/etc/os-release` ID and VERSION_ID (default polypack-test 1.0); null leaves the file out. */
  distro?: { name: string; version: string } | null;
  /**
   * A CNB user and group: added to /etc/passwd and /etc/group with a home folder, CNB_USER_ID and
   * CNB_GROUP_ID set, `User` set to the user (as a CNB build image).
   */
  cnbUser?: { uid: number; gid: number; name?: string };
  /** The config's `User` (overrides the CNB user's). */
  user?: string;
  /** Config labels. */
  labels?: Record<string, string>;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Leave out the env variables of the CNB user even with `cnbUser` (a build image missing them). */
  omitCnbEnv?: boolean;
}

const APPLETS = [
  "sh",
  "cat",
  "echo",
  "id",
  "ls",
  "mkdir",
  "uname",
  "env",
  "cp",
  "chmod",
  "rm",
  "test",
  "true",
];

/**
 * A tiny Linux image for `arch`: Debian's static busybox as /bin/busybox with its usual applets as
 * symbolic links, an /etc/os-release, /etc/passwd and /etc/group (root, and the CNB user when
 * asked), /tmp, /root and /home. The real thing a build or run image is, in 1 MiB.
 */
export async function baseImage(arch: TestArch, options: BaseImageOptions = {}): Promise<Image> {
  const busybox = await busyboxBinary(arch);
  const distro = options.distro === undefined ? { name: "polypack-test", version: "1.0" } : options.distro;
  const cnb = options.cnbUser;
  const userName = cnb?.name ?? "cnb";
  let passwd = "root:x:0:0:root:/root:/bin/sh\n";
  let group = "root:x:0:\n";
  if (cnb) {
    passwd += `${userName}:x:${cnb.uid}:${cnb.gid}:CNB user:/home/${userName}:/bin/sh\n`;
    group += `${userName}:x:${cnb.gid}:\n`;
  }
  const entries: LayerEntry[] = [
    { type: "directory", path: "bin" },
    { type: "file", path: "bin/busybox", content: busybox, exactMode: 0o755 },
    ...APPLETS.map((name): LayerEntry => ({ type: "symlink", path: `bin/${name}`, linkname: "busybox" })),
    { type: "directory", path: "etc" },
    { type: "file", path: "etc/passwd", content: passwd },
    { type: "file", path: "etc/group", content: group },
    { type: "directory", path: "home" },
    { type: "directory", path: "root", exactMode: 0o700 },
    { type: "directory", path: "tmp", exactMode: 0o1777 },
  ];
  if (distro) {
    const release = `NAME="Polypack Test Linux"\nID=${distro.name}\nVERSION_ID="${distro.version}"\n`;
    entries.push({ type: "file", path: "etc/os-release", content: release });
  }
  if (cnb) {
    entries.push({ type: "directory", path: `home/${userName}`, uid: cnb.uid, gid: cnb.gid });
  }
  const env: Record<string, string> = {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  };
  if (cnb && !options.omitCnbEnv) {
    env["CNB_USER_ID"] = String(cnb.uid);
    env["CNB_GROUP_ID"] = String(cnb.gid);
  }
  Object.assign(env, options.env ?? {});
  const user = options.user ?? (cnb ? `${cnb.uid}:${cnb.gid}` : undefined);
  return mutateImage(emptyImage({ os: "linux", architecture: arch }), {
    add: [{ layer: await memoryLayer(entries) }],
    env,
    ...(user !== undefined ? { user } : {}),
    ...(options.labels ? { labels: options.labels } : {}),
  });
}

/** A multi-arch index of base images, one per architecture, made with the same options. */
export async function baseIndex(
  arches: readonly TestArch[] = TEST_ARCHES,
  options: BaseImageOptions = {},
): Promise<Index> {
  const images = await Promise.all(arches.map((arch) => baseImage(arch, options)));
  return newIndex(images.map((artifact) => ({ artifact })));
}

/** The programs a lifecycle release holds, as pack requires them plus the optional ones. */
export const LIFECYCLE_BINARIES = [
  "analyzer",
  "builder",
  "creator",
  "detector",
  "exporter",
  "extender",
  "launcher",
  "rebaser",
  "restorer",
];

/** The lifecycle.toml of the stand-in, with the APIs of lifecycle 0.20. */
export function lifecycleToml(version: string): string {
  return [
    "[apis]",
    "[apis.buildpack]",
    '  deprecated = ["0.2", "0.3", "0.4", "0.5", "0.6"]',
    '  supported = ["0.7", "0.8", "0.9", "0.10", "0.11"]',
    "[apis.platform]",
    "  deprecated = []",
    '  supported = ["0.7", "0.8", "0.9", "0.10", "0.11", "0.12", "0.13", "0.14"]',
    "",
    "[lifecycle]",
    `  version = "${version}"`,
    "",
  ].join("\n");
}

// The builtin println keeps the program small (no fmt): about 0.9 MiB stripped.
const STAND_IN_SOURCE = `package main

import "runtime"

func main() {
\tprintln("polypack test program", runtime.GOOS, runtime.GOARCH)
}
`;

/**
 * A small static program compiled with Go for `arch` (GOOS=linux, CGO off, stripped): it prints the
 * platform it was built for. Built once per machine and source, then reused.
 */
export async function standInProgram(arch: TestArch | "ppc64le" | "s390x"): Promise<Buffer> {
  const key = createHash("sha256").update(STAND_IN_SOURCE).digest("hex").slice(0, 16);
  const dir = join(tmpdir(), `polypack-test-standin-${key}`);
  const path = join(dir, arch);
  if (!existsSync(path)) {
    const work = `${dir}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    await mkdir(work, { recursive: true });
    try {
      await writeFile(join(work, "main.go"), STAND_IN_SOURCE);
      await writeFile(join(work, "go.mod"), "module standin\n\ngo 1.19\n");
      await run("go", ["build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", arch, "."], {
        cwd: work,
        env: { ...process.env, GOOS: "linux", GOARCH: arch, CGO_ENABLED: "0", GOFLAGS: "-mod=mod" },
      });
      await mkdir(dir, { recursive: true });
      await rename(join(work, arch), path);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  return await readFile(path);
}

/** The lifecycle stand-in's files for `arch`: `lifecycle.toml` and `lifecycle/<binary>`. */
export async function lifecycleEntries(
  arch: TestArch,
  version: string,
  options: { programArch?: TestArch; omit?: string } = {},
): Promise<LayerEntry[]> {
  const program = await standInProgram(options.programArch ?? arch);
  return [
    { type: "file", path: "lifecycle.toml", content: lifecycleToml(version) },
    { type: "directory", path: "lifecycle" },
    // As releases ship it: one `lifecycle` program, the phases linked to it, the launcher its own.
    { type: "file", path: "lifecycle/lifecycle", content: program, exactMode: 0o755 },
    ...LIFECYCLE_BINARIES.filter((name) => name !== options.omit).map((name): LayerEntry =>
      name === "launcher"
        ? { type: "file", path: `lifecycle/${name}`, content: program, exactMode: 0o755 }
        : { type: "symlink", path: `lifecycle/${name}`, linkname: "lifecycle", exactMode: 0o777 },
    ),
  ];
}

/** The lifecycle's release name for an architecture (`x86-64` for amd64, as the releases name it). */
export function releaseArch(arch: TestArch): string {
  return arch === "amd64" ? "x86-64" : arch;
}

/**
 * Writes lifecycle release archives for `arches` into `dir` as the lifecycle's GitHub releases
 * name them (`v<V>/lifecycle-v<V>+linux.<arch>.tgz`) with `lifecycle-v<V>-checksums.txt`, so `dir`
 * can be served as a `--lifecycle-mirror`. Returns each archive's path.
 */
export async function writeLifecycleReleases(
  dir: string,
  version: string,
  arches: readonly TestArch[] = TEST_ARCHES,
): Promise<Record<string, string>> {
  const release = join(dir, `v${version}`);
  await mkdir(release, { recursive: true });
  const paths: Record<string, string> = {};
  let checksums = "";
  for (const arch of arches) {
    const name = `lifecycle-v${version}+linux.${releaseArch(arch)}.tgz`;
    const { blob } = await layerBytes(await lifecycleEntries(arch, version));
    await writeFile(join(release, name), blob);
    checksums += `${createHash("sha256").update(blob).digest("hex")}  ${name}\n`;
    paths[arch] = join(release, name);
  }
  await writeFile(join(release, `lifecycle-v${version}-checksums.txt`), checksums);
  return paths;
}

/**
 * A multi-arch lifecycle image as `buildpacksio/lifecycle` is: per architecture, a base layer and
 * the lifecycle as the last layer, its files under `/cnb/lifecycle/` with lifecycle.toml beside them.
 */
export async function lifecycleIndex(
  version: string,
  arches: readonly TestArch[] = TEST_ARCHES,
): Promise<Index> {
  const images = await Promise.all(
    arches.map(async (arch) => {
      const entries = (await lifecycleEntries(arch, version)).map((entry): LayerEntry =>
        entry.path === "lifecycle.toml"
          ? { ...entry, path: "cnb/lifecycle/lifecycle.toml" }
          : { ...entry, path: `cnb/${entry.path}` },
      );
      const layer = await memoryLayer([{ type: "directory", path: "cnb" }, ...entries]);
      return mutateImage(emptyImage({ os: "linux", architecture: arch }), { add: [{ layer }] });
    }),
  );
  return newIndex(images.map((artifact) => ({ artifact })));
}

/** Writes an image or index to `reference` in a registry on 127.0.0.1 (tag last, as polypack does). */
export async function publish(artifact: Image | Index, reference: string): Promise<string> {
  const { RegistryClient } = await import("../../src/registry/client.js");
  const { RegistryTarget } = await import("../../src/registry/target.js");
  const { Reference } = await import("../../src/registry/reference.js");
  const { write } = await import("../../src/image/write.js");
  const parsed = Reference.parse(reference);
  const client = new RegistryClient();
  try {
    const report = await write(artifact, new RegistryTarget(client, parsed), {
      tags: parsed.tag ? [parsed.tag] : [],
    });
    return report.root.digest;
  } finally {
    await client.close();
  }
}

/**
 * A buildpack folder for amd64 and arm64 whose `bin/detect` and `bin/build` are the Go stand-in
 * compiled for each architecture, in pack's per-target folders (`linux/<arch>/bin/`).
 */
export async function multiArchBuildpack(dir: string, id: string, version: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, "buildpack.toml"),
    [
      'api = "0.10"',
      "[buildpack]",
      `id = "${id}"`,
      `version = "${version}"`,
      "[[targets]]",
      'os = "linux"',
      'arch = "amd64"',
      "[[targets]]",
      'os = "linux"',
      'arch = "arm64"',
      "",
    ].join("\n"),
  );
  for (const arch of TEST_ARCHES) {
    const bin = join(dir, "linux", arch, "bin");
    await mkdir(bin, { recursive: true });
    const program = await standInProgram(arch);
    await writeFile(join(bin, "detect"), program, { mode: 0o755 });
    await writeFile(join(bin, "build"), program, { mode: 0o755 });
  }
  return dir;
}
