/**
 * `stack create` against a real registry (through a proxy that counts uploaded bytes) and into an
 * OCI layout, on the tests' own busybox base images for amd64 and arm64; the results are checked
 * with skopeo, umoci and file.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { write } from "../../src/image/write.js";
import { LayoutTarget } from "../../src/layout/layout-target.js";
import type { ImageConfig, ImageIndex, ImageManifest } from "../../src/oci/manifest.js";
import { RegistryClient } from "../../src/registry/client.js";
import { defaultCredentialProvider } from "../../src/registry/credentials/default.js";
import { Reference } from "../../src/registry/reference.js";
import { RegistryTarget } from "../../src/registry/target.js";
import { baseIndex, TEST_ARCHES } from "../support/base-images.js";
import { startFaultProxy, type FaultProxy, type RecordedRequest } from "../support/fault-proxy.js";
import { startRegistry, type RegistryHandle } from "../support/registry.js";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";
import { polypack, polypackOk } from "./buildpack-package-support.js";

const ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(",");

/** The digests whose upload session was finished with their bytes (`PUT ...?digest=`). */
function uploadedDigests(requests: readonly RecordedRequest[]): string[] {
  return requests
    .filter((r) => r.method === "PUT" && /\/blobs\/uploads\//.test(r.path))
    .map((r) => decodeURIComponent(/[?&]digest=([^&]+)/.exec(r.path)?.[1] ?? ""));
}

/** Bytes of blob content uploaded (PATCH and PUT bodies of upload sessions). */
function uploadedBlobBytes(requests: readonly RecordedRequest[]): number {
  return requests
    .filter((r) => /\/blobs\/uploads\//.test(r.path) && (r.method === "PATCH" || r.method === "PUT"))
    .reduce((sum, r) => sum + r.bodyBytes, 0);
}

interface StackJSON {
  build: { digest: string; tags: string[] };
  run: { digest: string; tags: string[] };
  targets: { platform: string; build: string; run: string; distro: string }[];
  upToDate: boolean;
}

describe("stack create", () => {
  let registry: RegistryHandle;
  let proxy: FaultProxy;
  let work: string;
  let upstreamLayers: Map<string, number>;

  const get = async <T>(repository: string, ref: string, kind = "manifests"): Promise<T> => {
    const response = await fetch(`${registry.url}/v2/${repository}/${kind}/${ref}`, {
      headers: { accept: ACCEPT },
    });
    assert.equal(response.status, 200, `${repository} ${ref}`);
    return JSON.parse(Buffer.from(await response.arrayBuffer()).toString()) as T;
  };

  before(async () => {
    work = await tempDir("polypack-stack-");
    registry = await startRegistry();
    proxy = await startFaultProxy(registry.url);
    const upstream = await baseIndex(TEST_ARCHES, { distro: { name: "polypack-test", version: "1.0" } });
    const client = new RegistryClient({
      credentials: defaultCredentialProvider(),
      insecure: [registry.host],
    });
    await write(upstream, new RegistryTarget(client, Reference.parse(`${registry.host}/upstream/base:1`)), {
      tags: ["1"],
    });
    await write(upstream, await LayoutTarget.create(join(work, "upstream")), { tags: ["base"] });
    await client.close();
    upstreamLayers = new Map();
    for (const entry of (await get<ImageIndex>("upstream/base", "1")).manifests) {
      const image = await get<ImageManifest>("upstream/base", entry.digest);
      for (const layer of image.layers) upstreamLayers.set(layer.digest, layer.size);
    }
  });
  after(async () => {
    await proxy?.stop();
    await registry?.stop();
  });

  test("publishing to the upstream's registry mounts its layers and uploads only the new small ones; a re-run writes nothing", async () => {
    const args = [
      "--json",
      "stack",
      "create",
      `${proxy.host}/stacks/build:1`,
      `${proxy.host}/stacks/run:1`,
      "--from",
      `${proxy.host}/upstream/base:1`,
      "--stack-id",
      "io.polypack.test",
      "--maintainer",
      "Polypack tests",
      "--publish",
    ];
    proxy.requests.length = 0;
    const first = JSON.parse((await polypackOk(args)).stdout) as StackJSON;
    assert.deepEqual(
      first.targets.map((t) => [t.platform, t.distro]),
      [
        ["linux/amd64", "polypack-test@1.0"],
        ["linux/arm64", "polypack-test@1.0"],
      ],
    );
    const uploaded = uploadedDigests(proxy.requests);
    for (const digest of upstreamLayers.keys()) {
      assert.ok(!uploaded.includes(digest), `upstream layer ${digest} was not uploaded`);
    }
    // Exactly the new layer and config of every image moved, in each repository.
    let own = 0;
    for (const [repository, kind] of [
      ["stacks/build", "build"],
      ["stacks/run", "run"],
    ] as const) {
      const index = await get<ImageIndex>(repository, "1");
      assert.equal(
        first[kind].digest,
        (
          await fetch(`${registry.url}/v2/${repository}/manifests/1`, {
            method: "HEAD",
            headers: { accept: ACCEPT },
          })
        ).headers.get("docker-content-digest"),
      );
      const blobs = new Map<string, number>();
      for (const entry of index.manifests) {
        const image = await get<ImageManifest>(repository, entry.digest);
        assert.equal(image.layers.length, 2, "the upstream layer, then the user layer");
        assert.ok(upstreamLayers.has(image.layers[0]!.digest));
        for (const blob of [image.layers[1]!, image.config]) blobs.set(blob.digest, blob.size);
        const config = await get<ImageConfig>(repository, image.config.digest, "blobs");
        const labels = config.config?.Labels ?? {};
        assert.equal(labels["io.buildpacks.base.distro.name"], "polypack-test");
        assert.equal(labels["io.buildpacks.base.distro.version"], "1.0");
        assert.equal(labels["io.buildpacks.stack.id"], "io.polypack.test");
        assert.equal(labels["io.buildpacks.stack.mixins"], "[]");
        assert.equal(labels["io.buildpacks.base.id"], "io.polypack.test");
        assert.equal(labels["io.buildpacks.base.maintainer"], "Polypack tests");
        assert.equal(config.config?.User, "1000:1000");
        const env = config.config?.Env ?? [];
        if (kind === "build") {
          for (const variable of ["CNB_USER_ID=1000", "CNB_GROUP_ID=1000", "CNB_STACK_ID=io.polypack.test"]) {
            assert.ok(env.includes(variable), `${variable} in ${env.join(" ")}`);
          }
        } else {
          assert.ok(!env.some((e) => e.startsWith("CNB_USER_ID=")), "no CNB_USER_ID on the run image");
        }
      }
      own += [...blobs.values()].reduce((sum, size) => sum + size, 0);
    }
    assert.equal(uploadedBlobBytes(proxy.requests), own, "only the new layers and configs were uploaded");

    proxy.requests.length = 0;
    const again = JSON.parse((await polypackOk(args)).stdout) as StackJSON;
    assert.equal(again.build.digest, first.build.digest);
    assert.equal(again.run.digest, first.run.digest);
    assert.equal(again.upToDate, true);
    assert.deepEqual(uploadedDigests(proxy.requests), [], "nothing uploaded again");
    assert.ok(
      !proxy.requests.some((r) => r.method === "PUT" && r.path.includes("/manifests/sha256:")),
      "no manifest written again",
    );
    const inspected = JSON.parse(
      await run("skopeo", [
        "inspect",
        "--tls-verify=false",
        "--raw",
        `docker://${registry.host}/stacks/build:1`,
      ]),
    ) as ImageIndex;
    assert.deepEqual(
      inspected.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`),
      ["linux/amd64", "linux/arm64"],
    );
  });

  test("into a layout: umoci unpacks an arm64 build image with the CNB user, its home and an aarch64 busybox", async () => {
    const out = join(work, "stack-layout");
    await polypackOk([
      "stack",
      "create",
      "build",
      "run",
      "--from",
      `oci:${join(work, "upstream")}:base`,
      "--user-id",
      "1001",
      "--group-id",
      "1002",
      "--format",
      "layout",
      "--output",
      out,
    ]);
    for (const [ref, arch] of [
      ["build", "arm64"],
      ["run", "amd64"],
    ] as const) {
      const single = join(work, `single-${ref}`);
      await run("skopeo", ["copy", "--override-arch", arch, `oci:${out}:${ref}`, `oci:${single}:${arch}`]);
      const bundle = join(work, `bundle-${ref}`);
      await run("umoci", ["unpack", "--image", `${single}:${arch}`, bundle]);
      const rootfs = join(bundle, "rootfs");
      const passwd = await readFile(join(rootfs, "etc/passwd"), "utf8");
      assert.match(passwd, /^root:x:0:0:/m, "the image's own users stay");
      assert.match(passwd, /^cnb:x:1001:1002:CNB user:\/home\/cnb:\/bin\/sh$/m);
      assert.match(await readFile(join(rootfs, "etc/group"), "utf8"), /^cnb:x:1002:$/m);
      const home = await stat(join(rootfs, "home/cnb"));
      assert.ok(home.isDirectory());
      assert.deepEqual([home.uid, home.gid], [1001, 1002], "the home directory is the CNB user's");
      const described = await run("file", ["-b", join(rootfs, "bin/busybox")]);
      assert.match(described, arch === "arm64" ? /aarch64/ : /x86-64/);
      const config = JSON.parse(await readFile(join(bundle, "config.json"), "utf8")) as {
        process: { user: { uid: number; gid: number } };
      };
      assert.deepEqual(config.process.user, { uid: 1001, gid: 1002 });
    }
  });

  test("bad input: a taken uid, no os-release, a root --user-id, a missing platform, a run image of another distro; nothing is written", async () => {
    const other = join(work, "other-distro");
    await write(
      await baseIndex(TEST_ARCHES, { distro: { name: "polypack-test", version: "2.0" } }),
      await LayoutTarget.create(other),
      { tags: ["base"] },
    );
    const taken = join(work, "taken-uid");
    await write(
      await baseIndex(TEST_ARCHES, { cnbUser: { uid: 1000, gid: 1000, name: "app" }, omitCnbEnv: true }),
      await LayoutTarget.create(taken),
      { tags: ["base"] },
    );
    const noRelease = join(work, "no-os-release");
    await write(await baseIndex(TEST_ARCHES, { distro: null }), await LayoutTarget.create(noRelease), {
      tags: ["base"],
    });
    const out = join(work, "never");
    const cases: { args: string[]; code: string; message: RegExp }[] = [
      {
        args: ["--from", `oci:${taken}:base`],
        code: "STACK_USER_CONFLICT",
        message: /taken-uid:base \(linux\/amd64\): uid 1000 belongs to user app in \/etc\/passwd/,
      },
      {
        args: ["--from", `oci:${noRelease}:base`],
        code: "STACK_OS_RELEASE_MISSING",
        message: /no-os-release:base \(linux\/amd64\) has no \/etc\/os-release/,
      },
      { args: ["--user-id", "0"], code: "FLAG_INVALID", message: /--user-id/ },
      {
        args: ["--target", "linux/s390x"],
        code: "STACK_PLATFORM_MISSING",
        message: /upstream.*linux\/s390x/,
      },
      {
        args: ["--run-from", `oci:${other}:base`],
        code: "STACK_MISMATCH",
        message: /polypack-test@1\.0 and polypack-test@2\.0/,
      },
    ];
    for (const { args, code, message } of cases) {
      const outcome = await polypack([
        "--json",
        "stack",
        "create",
        "build",
        "run",
        ...(args[0] === "--from" ? [] : ["--from", `oci:${join(work, "upstream")}:base`]),
        "--format",
        "layout",
        "--output",
        out,
        ...args,
      ]);
      assert.notEqual(outcome.code, 0, args.join(" "));
      const error = (JSON.parse(outcome.stdout) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, code, outcome.stderr);
      assert.match(error.message, message);
      assert.ok(!existsSync(out), `nothing at ${out} after ${args.join(" ")}`);
    }
  });
});
