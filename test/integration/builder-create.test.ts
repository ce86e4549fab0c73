/**
 * `polypack builder create` end to end against a real registry: base images, run images, lifecycle
 * releases and buildpacks for amd64 and arm64 made by the tests (test/support/base-images.ts), a
 * builder created for both, and every platform checked with skopeo, umoci and `file`.
 */
import assert from "node:assert/strict";
import { mkdir, readFile, stat, writeFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse as parseToml } from "smol-toml";
import {
  baseIndex,
  lifecycleIndex,
  multiArchBuildpack,
  publish,
  standInProgram,
  TEST_ARCHES,
  writeLifecycleReleases,
} from "../support/base-images.js";
import { polypack } from "../support/cli.js";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { createTestCertificates } from "../support/certificates.js";
import { startHtpasswdRegistry, startRegistry, type RegistryHandle } from "../support/registry.js";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";

/** TOML as plain objects (smol-toml gives tables a null prototype). */
function parse(text: string): unknown {
  return JSON.parse(JSON.stringify(parseToml(text)));
}

const DISTRO = {
  "io.buildpacks.base.distro.name": "polypack-test",
  "io.buildpacks.base.distro.version": "1.0",
};
const CNB = { uid: 1000, gid: 1001 };
const LIFECYCLE_VERSION = "0.20.1";

let registry: RegistryHandle;
let work: string;
let mirror: string;

before(async () => {
  registry = await startRegistry();
  work = await tempDir("polypack-builder-");
  mirror = join(work, "releases");
  const host = registry.host;
  await Promise.all([
    baseIndex(TEST_ARCHES, { cnbUser: CNB, labels: DISTRO }).then((i) => publish(i, `${host}/stack/build:1`)),
    baseIndex(TEST_ARCHES, { cnbUser: CNB, labels: DISTRO }).then((i) => publish(i, `${host}/stack/run:1`)),
    baseIndex(["amd64"], { cnbUser: CNB, labels: DISTRO }).then((i) =>
      publish(i, `${host}/stack/run-amd64-only:1`),
    ),
    baseIndex(TEST_ARCHES, {
      cnbUser: CNB,
      labels: { ...DISTRO, "io.buildpacks.base.distro.version": "2.0" },
    }).then((i) => publish(i, `${host}/stack/run-other-distro:1`)),
    baseIndex(TEST_ARCHES, { cnbUser: CNB, labels: DISTRO, omitCnbEnv: true }).then((i) =>
      publish(i, `${host}/stack/build-no-cnb:1`),
    ),
    baseIndex(TEST_ARCHES, { cnbUser: CNB, labels: DISTRO, user: "root" }).then((i) =>
      publish(i, `${host}/stack/build-root:1`),
    ),
    lifecycleIndex(LIFECYCLE_VERSION).then((i) => publish(i, `${host}/lifecycle:${LIFECYCLE_VERSION}`)),
    lifecycleIndex(LIFECYCLE_VERSION, ["amd64"]).then((i) =>
      publish(i, `${host}/lifecycle-amd64:${LIFECYCLE_VERSION}`),
    ),
    writeLifecycleReleases(mirror, LIFECYCLE_VERSION),
  ]);
  // One buildpack from a registry (packaged by polypack itself), one from a local folder.
  const remote = await multiArchBuildpack(join(work, "bp-remote"), "test/remote", "1.0.0");
  const packaged = await polypack([
    "buildpack",
    "package",
    `${host}/bp/remote:1`,
    "--path",
    remote,
    "--publish",
  ]);
  assert.equal(packaged.code, 0, packaged.stderr);
  await multiArchBuildpack(join(work, "bp-local"), "test/local", "2.0.0");
  const amd64Only = await multiArchBuildpack(join(work, "bp-amd64"), "test/amd64only", "1.0.0");
  const amd64Package = await polypack([
    "buildpack",
    "package",
    `${host}/bp/amd64-only:1`,
    "--path",
    amd64Only,
    "--target",
    "linux/amd64",
    "--publish",
  ]);
  assert.equal(amd64Package.code, 0, amd64Package.stderr);
  const wrong = await multiArchBuildpack(join(work, "bp-wrong"), "test/wrong", "1.0.0");
  await writeFile(join(wrong, "linux", "arm64", "bin", "build"), await standInProgram("amd64"), {
    mode: 0o755,
  });
  const ubuntuOnly = await multiArchBuildpack(join(work, "bp-ubuntu"), "test/ubuntu", "1.0.0");
  const toml = await readFile(join(ubuntuOnly, "buildpack.toml"), "utf8");
  await writeFile(
    join(ubuntuOnly, "buildpack.toml"),
    toml.replace(/arch = "(\w+)"/g, 'arch = "$1"\n[[targets.distros]]\nname = "ubuntu"\nversion = "22.04"'),
  );
});

after(() => registry?.stop());

function builderToml(
  overrides: { build?: string; run?: string; lifecycle?: string; order?: string; extra?: string } = {},
): string {
  const host = registry.host;
  return [
    'description = "a test builder"',
    "[[buildpacks]]",
    `uri = "docker://${host}/bp/remote:1"`,
    "[[buildpacks]]",
    'id = "test/local"',
    'uri = "./bp-local"',
    overrides.extra ?? "",
    overrides.order ??
      [
        "[[order]]",
        "[[order.group]]",
        'id = "test/local"',
        "[[order.group]]",
        'id = "test/remote"',
        'version = "1.0.0"',
        "optional = true",
      ].join("\n"),
    "[build]",
    `image = "${overrides.build ?? `${host}/stack/build:1`}"`,
    "[[run.images]]",
    `image = "${overrides.run ?? `${host}/stack/run:1`}"`,
    `mirrors = ["${host}/stack/run:1"]`,
    "[lifecycle]",
    overrides.lifecycle ?? `version = "${LIFECYCLE_VERSION}"`,
    "",
  ].join("\n");
}

async function writeConfig(name: string, text: string): Promise<string> {
  const path = join(work, name);
  await writeFile(path, text);
  return path;
}

async function rawManifest(reference: string): Promise<Record<string, unknown>> {
  return JSON.parse(
    await run("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${reference}`]),
  ) as Record<string, unknown>;
}

async function tagExists(repository: string, tag: string): Promise<boolean> {
  const response = await fetch(`${registry.url}/v2/${repository}/tags/list`);
  if (response.status !== 200) return false;
  const body = (await response.json()) as { tags?: string[] | null };
  return (body.tags ?? []).includes(tag);
}

describe("builder create", () => {
  it("creates one builder index for amd64 and arm64 whose every platform holds its own lifecycle and buildpacks", async () => {
    const config = await writeConfig("builder.toml", builderToml());
    const reference = `${registry.host}/builders/test:1`;
    const created = await polypack([
      "builder",
      "create",
      reference,
      "--config",
      config,
      "--publish",
      "--tag",
      `${registry.host}/builders/elsewhere:1`,
      "--lifecycle-mirror",
      mirror,
      "--json",
    ]);
    assert.equal(created.code, 0, created.stderr);
    const report = JSON.parse(created.stdout) as {
      digest: string;
      tags: string[];
      targets: { platform: string; digest: string }[];
    };
    assert.deepEqual(report.tags, ["1", `${registry.host}/builders/elsewhere:1`]);
    assert.deepEqual(
      report.targets.map((t) => t.platform),
      ["linux/amd64", "linux/arm64"],
    );

    const index = (await rawManifest(reference)) as {
      manifests: { digest: string; platform: { architecture: string } }[];
    };
    assert.equal(index.manifests.length, 2);

    // `--tag REPOSITORY:TAG` of the same registry: the builder is copied there, its SBOMs too.
    assert.deepEqual(await rawManifest(`${registry.host}/builders/elsewhere:1`), index);
    for (const entry of index.manifests) {
      const referrers = (await rawManifest(
        `${registry.host}/builders/elsewhere:${entry.digest.replace(":", "-")}`,
      )) as { manifests: { digest: string; artifactType: string }[] };
      assert.deepEqual(referrers.manifests.map((m) => m.artifactType).sort(), [
        "application/spdx+json",
        "application/vnd.cyclonedx+json",
      ]);
      for (const referrer of referrers.manifests) {
        const artifact = (await rawManifest(`${registry.host}/builders/elsewhere@${referrer.digest}`)) as {
          subject: { digest: string };
        };
        assert.equal(artifact.subject.digest, entry.digest);
      }
    }

    // Each platform's SBOMs are attached by default, as referrers (the registry's tag scheme): the
    // CycloneDX document names that platform's lifecycle and both buildpacks.
    for (const entry of index.manifests) {
      const referrers = (await rawManifest(
        `${registry.host}/builders/test:${entry.digest.replace(":", "-")}`,
      )) as { manifests: { digest: string; artifactType: string }[] };
      assert.deepEqual(referrers.manifests.map((m) => m.artifactType).sort(), [
        "application/spdx+json",
        "application/vnd.cyclonedx+json",
      ]);
      const cdx = referrers.manifests.find((m) => m.artifactType === "application/vnd.cyclonedx+json")!;
      const artifact = (await rawManifest(`${registry.host}/builders/test@${cdx.digest}`)) as {
        subject: { digest: string };
        layers: { digest: string }[];
      };
      assert.equal(artifact.subject.digest, entry.digest);
      const blob = await fetch(`${registry.url}/v2/builders/test/blobs/${artifact.layers[0]!.digest}`);
      const document = await blob.text();
      for (const name of ["lifecycle", "test/remote", "test/local"]) {
        assert.ok(document.includes(name), `the ${entry.platform.architecture} SBOM names ${name}`);
      }
    }
    const layout = join(work, "builder-layout");
    for (const entry of index.manifests) {
      const arch = entry.platform.architecture;
      await run("skopeo", [
        "copy",
        "--src-tls-verify=false",
        `docker://${registry.host}/builders/test@${entry.digest}`,
        `oci:${layout}:${arch}`,
      ]);
      const bundle = join(work, `bundle-${arch}`);
      await run("umoci", ["unpack", "--image", `${layout}:${arch}`, bundle]);
      const rootfs = join(bundle, "rootfs");
      const machine = arch === "amd64" ? /x86-64/ : /aarch64/;
      assert.match(await run("file", ["-bL", join(rootfs, "cnb/lifecycle/detector")]), machine);
      assert.match(await run("file", ["-b", join(rootfs, "cnb/lifecycle/launcher")]), machine);
      assert.match(
        await run("file", ["-b", join(rootfs, "cnb/buildpacks/test_local/2.0.0/bin/build")]),
        machine,
      );
      assert.match(
        await run("file", ["-b", join(rootfs, "cnb/buildpacks/test_remote/1.0.0/bin/detect")]),
        machine,
      );
      assert.match(await run("file", ["-b", join(rootfs, "bin/busybox")]), machine);
      assert.equal(await readlink(join(rootfs, "lifecycle")), "/cnb/lifecycle");
      for (const dir of ["workspace", "layers"]) {
        const info = await stat(join(rootfs, dir));
        assert.equal(info.uid, CNB.uid, `/${dir} owner`);
        assert.equal(info.gid, CNB.gid, `/${dir} group`);
      }
      const order = parse(await readFile(join(rootfs, "cnb/order.toml"), "utf8")) as {
        order: { group: { id: string; version: string; optional?: boolean }[] }[];
      };
      assert.deepEqual(order.order, [
        {
          group: [
            { id: "test/local", version: "2.0.0" },
            { id: "test/remote", version: "1.0.0", optional: true },
          ],
        },
      ]);
      const runToml = parse(await readFile(join(rootfs, "cnb/run.toml"), "utf8")) as { images: unknown[] };
      assert.deepEqual(runToml.images, [
        { image: `${registry.host}/stack/run:1`, mirrors: [`${registry.host}/stack/run:1`] },
      ]);
      const stackToml = parse(await readFile(join(rootfs, "cnb/stack.toml"), "utf8")) as Record<
        string,
        unknown
      >;
      assert.deepEqual(stackToml["run-image"], {
        image: `${registry.host}/stack/run:1`,
        mirrors: [`${registry.host}/stack/run:1`],
      });

      const config = JSON.parse(
        await run("skopeo", [
          "inspect",
          "--config",
          "--raw",
          "--tls-verify=false",
          `docker://${registry.host}/builders/test@${entry.digest}`,
        ]),
      ) as {
        architecture: string;
        config: { Labels: Record<string, string>; WorkingDir: string; User: string };
        rootfs: { diff_ids: string[] };
      };
      assert.equal(config.architecture, arch);
      assert.equal(config.config.WorkingDir, "/layers");
      assert.equal(config.config.User, `${CNB.uid}:${CNB.gid}`);
      const labels = config.config.Labels;
      const metadata = JSON.parse(labels["io.buildpacks.builder.metadata"]!) as {
        description: string;
        lifecycle: { version: string; apis: { platform: { supported: string[] } } };
        buildpacks: { id: string; version: string }[];
        images: { image: string }[];
      };
      assert.equal(metadata.description, "a test builder");
      assert.equal(metadata.lifecycle.version, LIFECYCLE_VERSION);
      assert.ok(metadata.lifecycle.apis.platform.supported.includes("0.13"));
      assert.deepEqual(
        metadata.buildpacks.map((b) => `${b.id}@${b.version}`),
        ["test/local@2.0.0", "test/remote@1.0.0"],
      );
      const layers = JSON.parse(labels["io.buildpacks.buildpack.layers"]!) as Record<
        string,
        Record<string, { layerDiffID: string }>
      >;
      for (const [id, version] of [
        ["test/local", "2.0.0"],
        ["test/remote", "1.0.0"],
      ] as const) {
        assert.ok(
          config.rootfs.diff_ids.includes(layers[id]![version]!.layerDiffID),
          `${id} layer in rootfs`,
        );
      }
      assert.equal(labels["io.buildpacks.base.distro.name"], "polypack-test");
    }

    // The remote buildpack's layer is the buildpackage's own (same diffID), not a repackaging.
    const bpConfig = JSON.parse(
      await run("skopeo", [
        "inspect",
        "--config",
        "--raw",
        "--tls-verify=false",
        "--override-arch",
        "arm64",
        `docker://${registry.host}/bp/remote:1`,
      ]),
    ) as { rootfs: { diff_ids: string[] } };
    const builderArm = JSON.parse(
      await run("skopeo", [
        "inspect",
        "--config",
        "--raw",
        "--tls-verify=false",
        `docker://${registry.host}/builders/test@${report.targets[1]!.digest}`,
      ]),
    ) as { rootfs: { diff_ids: string[] } };
    assert.ok(builderArm.rootfs.diff_ids.includes(bpConfig.rootfs.diff_ids[0]!));

    // Same inputs, same digests.
    const again = await polypack([
      "builder",
      "create",
      reference,
      "--config",
      config,
      "--publish",
      "--lifecycle-mirror",
      mirror,
      "--json",
    ]);
    assert.equal(again.code, 0, again.stderr);
    const second = JSON.parse(again.stdout) as {
      digest: string;
      counts: { manifests: number; blobsUploaded: number };
    };
    assert.equal(second.digest, report.digest);
    assert.deepEqual(
      [second.counts.manifests, second.counts.blobsUploaded],
      [0, 0],
      "a re-run writes nothing new",
    );
  });

  it("takes the lifecycle from a multi-arch lifecycle image, the child for each target", async () => {
    const config = await writeConfig(
      "builder-image-lifecycle.toml",
      builderToml({ lifecycle: `uri = "docker://${registry.host}/lifecycle:${LIFECYCLE_VERSION}"` }),
    );
    const layout = join(work, "builder-from-image");
    const created = await polypack([
      "builder",
      "create",
      "test",
      "--config",
      config,
      "--format",
      "layout",
      "--output",
      layout,
      "--tag",
      "extra",
      "--label",
      "org.example.team=platform",
      "--pull-policy",
      "if-not-present",
      "--json",
    ]);
    assert.equal(created.code, 0, created.stderr);
    const report = JSON.parse(created.stdout) as {
      tags: string[];
      targets: { platform: string; lifecycle: string }[];
    };
    assert.deepEqual(report.tags, ["latest", "extra"]);
    const labelled = JSON.parse(
      await run("skopeo", [
        "inspect",
        "--config",
        "--raw",
        "--override-arch",
        "arm64",
        `oci:${layout}:extra`,
      ]),
    ) as { config: { Labels: Record<string, string> } };
    assert.equal(labelled.config.Labels["org.example.team"], "platform");
    assert.deepEqual(
      report.targets.map((t) => `${t.platform} ${t.lifecycle}`),
      [`linux/amd64 ${LIFECYCLE_VERSION}`, `linux/arm64 ${LIFECYCLE_VERSION}`],
    );
    // polypack verify finds every program of each platform built for it.
    const verified = await polypack(["verify", `oci:${layout}:latest`]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    // The lifecycle image's layer goes into the builder as it is (so a registry mounts it).
    for (const arch of TEST_ARCHES) {
      const inspect = async (where: string): Promise<string[]> =>
        (
          JSON.parse(
            await run("skopeo", [
              "inspect",
              "--config",
              "--raw",
              "--tls-verify=false",
              "--override-arch",
              arch,
              where,
            ]),
          ) as { rootfs: { diff_ids: string[] } }
        ).rootfs.diff_ids;
      const lifecycleLayers = await inspect(`docker://${registry.host}/lifecycle:${LIFECYCLE_VERSION}`);
      assert.ok((await inspect(`oci:${layout}:latest`)).includes(lifecycleLayers.at(-1)!));
      const bundle = join(work, `bundle-image-lifecycle-${arch}`);
      await run("skopeo", [
        "copy",
        "--override-arch",
        arch,
        `oci:${layout}:latest`,
        `oci:${layout}-${arch}:x`,
      ]);
      await run("umoci", ["unpack", "--image", `${layout}-${arch}:x`, bundle]);
      assert.match(
        await run("file", ["-bL", join(bundle, "rootfs/cnb/lifecycle/builder")]),
        arch === "amd64" ? /x86-64/ : /aarch64/,
      );
      assert.equal(await readlink(join(bundle, "rootfs/lifecycle")), "/cnb/lifecycle");
    }
  });

  it("builds one target per job by digest, joined by manifest create, which refuses a different builder", async () => {
    const config = await writeConfig("builder-split.toml", builderToml());
    const digests: string[] = [];
    for (const target of ["linux/amd64", "linux/arm64"]) {
      const outcome = await polypack([
        "builder",
        "create",
        `${registry.host}/builders/split`,
        "--config",
        config,
        "--target",
        target,
        "--publish",
        "--by-digest",
        "--lifecycle-mirror",
        mirror,
        "--json",
      ]);
      assert.equal(outcome.code, 0, outcome.stderr);
      const report = JSON.parse(outcome.stdout) as { digest: string; tags: string[] };
      assert.deepEqual(report.tags, []);
      digests.push(report.digest);
    }
    assert.equal(await tagExists("builders/split", "latest"), false, "by digest: no tag");
    const joined = await polypack([
      "manifest",
      "create",
      `${registry.host}/builders/split:1`,
      ...digests.map((d) => `${registry.host}/builders/split@${d}`),
      "--publish",
    ]);
    assert.equal(joined.code, 0, joined.stderr);
    const index = (await rawManifest(`${registry.host}/builders/split:1`)) as {
      manifests: { platform: { architecture: string } }[];
    };
    assert.deepEqual(index.manifests.map((m) => m.platform.architecture).sort(), ["amd64", "arm64"]);

    // An arm64 builder with another order cannot join the amd64 one.
    const other = await writeConfig(
      "builder-split-other.toml",
      builderToml({ order: '[[order]]\n[[order.group]]\nid = "test/local"' }),
    );
    const otherBuild = await polypack([
      "builder",
      "create",
      `${registry.host}/builders/split`,
      "--config",
      other,
      "--target",
      "linux/arm64",
      "--publish",
      "--by-digest",
      "--lifecycle-mirror",
      mirror,
      "--json",
    ]);
    assert.equal(otherBuild.code, 0, otherBuild.stderr);
    const mixed = await polypack([
      "manifest",
      "create",
      `${registry.host}/builders/split:mixed`,
      `${registry.host}/builders/split@${digests[0]!}`,
      `${registry.host}/builders/split@${(JSON.parse(otherBuild.stdout) as { digest: string }).digest}`,
      "--publish",
    ]);
    assert.equal(mixed.code, 1, mixed.stderr);
    assert.match(mixed.stderr, /MANIFEST_CHILDREN_DIFFER/);
    assert.equal(await tagExists("builders/split", "mixed"), false);
  });

  it("--flatten puts the named buildpacks into one layer, both label entries pointing at it, as pack", async () => {
    const config = await writeConfig("builder-flatten.toml", builderToml());
    const layers = async (tag: string, extra: string[]) => {
      const reference = `${registry.host}/builders/flatten:${tag}`;
      const created = await polypack([
        "builder",
        "create",
        reference,
        "--config",
        config,
        "--publish",
        "--target",
        "linux/amd64",
        "--lifecycle-mirror",
        mirror,
        ...extra,
      ]);
      assert.equal(created.code, 0, created.stderr);
      const image = JSON.parse(
        await run("skopeo", ["inspect", "--config", "--tls-verify=false", `docker://${reference}`]),
      ) as { rootfs: { diff_ids: string[] }; config: { Labels: Record<string, string> } };
      const label = JSON.parse(image.config.Labels["io.buildpacks.buildpack.layers"]!) as Record<
        string,
        Record<string, { layerDiffID: string }>
      >;
      return { reference, diffIDs: image.rootfs.diff_ids, label, stderr: created.stderr };
    };
    const plain = await layers("plain", []);
    const flat = await layers("flat", [
      "--flatten",
      "test/local@2.0.0,test/remote@1.0.0",
      "--flatten",
      "nope@1",
    ]);
    assert.equal(flat.diffIDs.length, plain.diffIDs.length - 1);
    const local = flat.label["test/local"]!["2.0.0"]!.layerDiffID;
    assert.equal(flat.label["test/remote"]!["1.0.0"]!.layerDiffID, local);
    assert.ok(flat.diffIDs.includes(local));
    assert.ok(!plain.diffIDs.includes(local));
    assert.match(flat.stderr, /--flatten names nope@1, which the linux\/amd64 builder does not hold/);

    const layout = join(work, "builder-flatten-layout");
    await run("skopeo", ["copy", "--src-tls-verify=false", `docker://${flat.reference}`, `oci:${layout}:x`]);
    const bundle = join(work, "bundle-flatten");
    await run("umoci", ["unpack", "--image", `${layout}:x`, bundle]);
    for (const file of ["test_local/2.0.0/bin/build", "test_remote/1.0.0/bin/detect"]) {
      await stat(join(bundle, "rootfs/cnb/buildpacks", file));
    }
    const refused = await polypack([
      "builder",
      "create",
      "x",
      "--config",
      config,
      "--dry-run",
      "--flatten",
      "test/local",
    ]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(
      refused.stderr,
      /error\[FLAG_INVALID\]: --flatten "test\/local": "test\/local" is not <id>@<version>/,
    );
  });

  it("a flattened buildpackage's shared layer goes into the builder once", async () => {
    const composite = join(work, "bp-flat-composite");
    await multiArchBuildpack(join(work, "bp-flat-one"), "test/one", "1.0.0");
    await multiArchBuildpack(join(work, "bp-flat-two"), "test/two", "1.0.0");
    await mkdir(composite, { recursive: true });
    await writeFile(
      join(composite, "buildpack.toml"),
      'api = "0.10"\n[buildpack]\nid = "test/flat"\nversion = "1.0.0"\n' +
        '[[order]]\n[[order.group]]\nid = "test/one"\nversion = "1.0.0"\n[[order.group]]\nid = "test/two"\nversion = "1.0.0"\n',
    );
    await writeFile(
      join(work, "flat-package.toml"),
      '[buildpack]\nuri = "bp-flat-composite"\n[[dependencies]]\nuri = "bp-flat-one"\n[[dependencies]]\nuri = "bp-flat-two"\n',
    );
    const packaged = await polypack([
      "buildpack",
      "package",
      `${registry.host}/bp/flat:1`,
      "--config",
      join(work, "flat-package.toml"),
      "--flatten",
      "--publish",
    ]);
    assert.equal(packaged.code, 0, packaged.stderr);
    const config = await writeConfig(
      "builder-flat-package.toml",
      builderToml({ extra: `[[buildpacks]]\nuri = "docker://${registry.host}/bp/flat:1"` }),
    );
    const reference = `${registry.host}/builders/flat-package:1`;
    const created = await polypack([
      "builder",
      "create",
      reference,
      "--config",
      config,
      "--publish",
      "--target",
      "linux/amd64",
      "--lifecycle-mirror",
      mirror,
    ]);
    assert.equal(created.code, 0, created.stderr);
    const image = JSON.parse(
      await run("skopeo", ["inspect", "--config", "--tls-verify=false", `docker://${reference}`]),
    ) as { rootfs: { diff_ids: string[] }; config: { Labels: Record<string, string> } };
    const label = JSON.parse(image.config.Labels["io.buildpacks.buildpack.layers"]!) as Record<
      string,
      Record<string, { layerDiffID: string }>
    >;
    const shared = label["test/one"]!["1.0.0"]!.layerDiffID;
    assert.equal(label["test/flat"]!["1.0.0"]!.layerDiffID, shared);
    assert.equal(image.rootfs.diff_ids.filter((d) => d === shared).length, 1);
  });

  it("an https buildpack uri is downloaded with --ca-file, as every other download is", async () => {
    const certificates = await createTestCertificates(await tempDir("polypack-builder-tls-"));
    const folder = await multiArchBuildpack(join(work, "bp-https"), "test/https", "1.0.0");
    await run("tar", ["-czf", join(work, "bp-https.tgz"), "-C", folder, "."]);
    const archive = await readFile(join(work, "bp-https.tgz"));
    const server = createHttpsServer(
      { key: await readFile(certificates.key), cert: await readFile(certificates.certificate) },
      (request, response) => {
        if (request.url === "/bp-https.tgz") response.end(archive);
        else response.writeHead(404).end();
      },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/bp-https.tgz`;
      const config = await writeConfig(
        "builder-https.toml",
        builderToml({ extra: `[[buildpacks]]\nuri = "${url}"` }),
      );
      const args = [
        "builder",
        "create",
        `${registry.host}/builders/https:1`,
        "--config",
        config,
        "--dry-run",
        "--target",
        "linux/amd64",
        "--lifecycle-mirror",
        mirror,
        "--json",
      ];
      const trusted = await polypack(["--ca-file", certificates.ca, ...args]);
      assert.equal(trusted.code, 0, trusted.stderr);
      const report = JSON.parse(trusted.stdout) as { targets: { buildpacks: string[] }[] };
      assert.ok(
        report.targets[0]!.buildpacks.some((b) => b.startsWith("test/https")),
        trusted.stdout,
      );
      const untrusted = await polypack(args);
      assert.equal(untrusted.code, 1, untrusted.stderr);
      assert.match(untrusted.stderr, /error\[DEPENDENCY_DOWNLOAD_FAILED\]/);
    } finally {
      server.close();
    }
  });

  it("dry run prints the digest the real run writes, and writes nothing", async () => {
    // The lifecycle from an archive whose uri names each target's architecture.
    const config = await writeConfig(
      "builder-dry.toml",
      builderToml({
        lifecycle: `uri = "releases/v${LIFECYCLE_VERSION}/lifecycle-v${LIFECYCLE_VERSION}+linux.{arch}.tgz"`,
      }),
    );
    const reference = `${registry.host}/builders/dry:1`;
    const dry = await polypack([
      "builder",
      "create",
      reference,
      "--config",
      config,
      "--dry-run",
      "--lifecycle-mirror",
      mirror,
      "--json",
    ]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(await tagExists("builders/dry", "1"), false);
    const real = await polypack([
      "builder",
      "create",
      reference,
      "--config",
      config,
      "--publish",
      "--lifecycle-mirror",
      mirror,
      "--json",
    ]);
    assert.equal(real.code, 0, real.stderr);
    assert.equal(
      (JSON.parse(real.stdout) as { digest: string }).digest,
      (JSON.parse(dry.stdout) as { digest: string }).digest,
    );
  });

  it("leaves a buildpack out of a target it lacks, with a warning (an error with --strict), and warns about run images it cannot reach", async (t) => {
    // A registry that wants credentials polypack does not have: the mirror cannot be checked.
    const locked = await startHtpasswdRegistry();
    t.after(() => locked.stop());
    const config = await writeConfig(
      "builder-amd64-only.toml",
      builderToml({
        extra: `[[buildpacks]]\nuri = "docker://${registry.host}/bp/amd64-only:1"`,
        order: [
          "[[order]]",
          "[[order.group]]",
          'id = "test/local"',
          "[[order.group]]",
          'id = "test/amd64only"',
          "optional = true",
          "[[order]]",
          "[[order.group]]",
          'id = "test/amd64only"',
        ].join("\n"),
      }).replace(/mirrors = \[.*\]/, `mirrors = ["${locked.host}/private/run:1"]`),
    );
    const args = [
      "builder",
      "create",
      "left-out",
      "--config",
      config,
      "--dry-run",
      "--lifecycle-mirror",
      mirror,
      "--json",
    ];
    const outcome = await polypack(args);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.match(
      outcome.stderr,
      /amd64-only:1 .*has no image for linux\/arm64; it is left out of that target/,
    );
    assert.match(outcome.stderr, /order group 2 \(test\/amd64only\) cannot run on linux\/arm64/);
    assert.match(
      outcome.stderr,
      /run image 127\.0\.0\.1:\d+\/private\/run:1 could not be checked for linux\/amd64/,
    );
    const report = JSON.parse(outcome.stdout) as { targets: { platform: string; buildpacks: string[] }[] };
    assert.deepEqual(
      report.targets.map((t) => `${t.platform}: ${t.buildpacks.join(" ")}`),
      [
        "linux/amd64: test/amd64only@1.0.0 test/local@2.0.0 test/remote@1.0.0",
        "linux/arm64: test/local@2.0.0 test/remote@1.0.0",
      ],
    );
    const strict = await polypack([...args, "--strict"]);
    assert.equal(strict.code, 1, strict.stderr);
    assert.match(strict.stderr, /error\[(BUILDER_MODULE_PLATFORM_MISSING|REGISTRY_UNAUTHORIZED)\]/);
  });

  const failures: [string, () => string, RegExp, RegExp][] = [
    [
      "an order naming a buildpack the builder does not hold",
      () => builderToml({ order: '[[order]]\n[[order.group]]\nid = "test/missing"' }),
      /BUILDER_ORDER_INVALID/,
      /test\/missing/,
    ],
    [
      "a buildpack whose targets name another distro",
      () =>
        builderToml({
          extra: '[[buildpacks]]\nuri = "./bp-ubuntu"',
          order: '[[order]]\n[[order.group]]\nid = "test/ubuntu"',
        }),
      /BUILDER_MODULE_PLATFORM_MISSING/,
      /test\/ubuntu@1.0.0 declares targets linux\/amd64 ubuntu@22.04, linux\/arm64 ubuntu@22.04, none of which is linux\/amd64 on polypack-test/,
    ],
    [
      "a buildpack whose arm64 folder holds an x86-64 program",
      () =>
        builderToml({
          extra: '[[buildpacks]]\nuri = "./bp-wrong"',
          order: '[[order]]\n[[order.group]]\nid = "test/wrong"',
        }),
      /VERIFY_FAILED/,
      /linux\/arm64.*test_wrong\/1\.0\.0\/bin\/build/,
    ],
    [
      "a build image without CNB_USER_ID",
      () => builderToml({ build: `${registry.host}/stack/build-no-cnb:1` }),
      /BUILD_IMAGE_INVALID/,
      /CNB_USER_ID/,
    ],
    [
      "a build image running as root",
      () => builderToml({ build: `${registry.host}/stack/build-root:1` }),
      /BUILD_IMAGE_INVALID/,
      /root/,
    ],
    [
      "a run image without the arm64 platform",
      () => builderToml({ run: `${registry.host}/stack/run-amd64-only:1` }),
      /RUN_IMAGE_PLATFORM_MISSING/,
      /run-amd64-only:1 has no image for linux\/arm64/,
    ],
    [
      "a lifecycle image without the arm64 platform",
      () =>
        builderToml({ lifecycle: `uri = "docker://${registry.host}/lifecycle-amd64:${LIFECYCLE_VERSION}"` }),
      /LIFECYCLE_PLATFORM_MISSING/,
      /lifecycle-amd64:0\.20\.1 has no image for linux\/arm64/,
    ],
    [
      "a run image of another distro",
      () => builderToml({ run: `${registry.host}/stack/run-other-distro:1` }),
      /STACK_MISMATCH/,
      /have different distros .*polypack-test@1\.0 and polypack-test@2\.0/,
    ],
    [
      "a lifecycle archive of the wrong architecture for a target",
      () =>
        builderToml({
          lifecycle: `uri = "${join("releases", `v${LIFECYCLE_VERSION}`, `lifecycle-v${LIFECYCLE_VERSION}+linux.x86-64.tgz`)}"`,
        }),
      /LIFECYCLE_ARCHITECTURE_MISMATCH/,
      /lifecycle\/\w+ is ELF 64-bit LSB amd64, not a program for linux\/arm64/,
    ],
  ];
  for (const [what, toml, code, message] of failures) {
    it(`refuses ${what}, naming it, and moves no tag`, async () => {
      const config = await writeConfig(`bad-${what.replace(/\W+/g, "-")}.toml`, toml());
      const outcome = await polypack([
        "builder",
        "create",
        `${registry.host}/builders/bad:1`,
        "--config",
        config,
        "--publish",
        "--lifecycle-mirror",
        mirror,
      ]);
      assert.equal(outcome.code, 1, outcome.stderr);
      assert.match(outcome.stderr, code);
      assert.match(outcome.stderr, message);
      assert.equal(await tagExists("builders/bad", "1"), false);
    });
  }
});
