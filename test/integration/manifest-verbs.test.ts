/**
 * pack's `manifest` verbs against a real registry: an index kept locally, edited, pushed with its
 * children mounted or copied into its repository (bytes counted by a proxy in front of the
 * registry), edited in place, and the bad input that must leave every tag where it was.
 */
import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { readFile, stat, writeFile } from "node:fs/promises";
import { after, before, beforeEach, describe, test } from "node:test";
import { RegistryClient } from "../../src/registry/client.js";
import { Reference } from "../../src/registry/reference.js";
import { RegistryTarget } from "../../src/registry/target.js";
import type { Descriptor } from "../../src/oci/descriptor.js";
import type { ImageIndex } from "../../src/oci/manifest.js";
import { IndexStore } from "../../src/manifest/store.js";
import { emptyImage, mutateImage } from "../../src/image/mutate.js";
import { LayerSpool } from "../../src/image/spool.js";
import { write } from "../../src/image/write.js";
import { goProgram } from "../support/go-programs.js";
import { polypack, type Outcome } from "../support/cli.js";
import { startFaultProxy, type FaultProxy, type RecordedRequest } from "../support/fault-proxy.js";
import { writeRandomImage, writeRandomIndex, type RandomImage } from "../support/images.js";
import { startRegistry, type RegistryHandle } from "../support/registry.js";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";

const BUILDPACKAGE = "io.buildpacks.buildpackage.metadata";
const OCI_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
].join(",");

/** Bytes of blob content uploaded (PATCH and PUT bodies of upload sessions). */
function uploadedBlobBytes(requests: readonly RecordedRequest[]): number {
  return requests
    .filter((r) => /\/blobs\/uploads\//.test(r.path) && (r.method === "PATCH" || r.method === "PUT"))
    .reduce((sum, r) => sum + r.bodyBytes, 0);
}

/** Requests that wrote anything: uploads, mounts, manifests, tags. */
function writes(requests: readonly RecordedRequest[]): RecordedRequest[] {
  return requests.filter((r) => r.method === "POST" || r.method === "PUT" || r.method === "PATCH");
}

interface Report {
  target: string;
  index: Descriptor;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
  outcome: string;
  tags: string[];
  manifest?: ImageIndex;
  blobs?: { uploaded: number; mounted: number; existing: number; bytesUploaded: number };
}

describe("manifest verbs against a real registry", () => {
  let registry: RegistryHandle;
  let other: RegistryHandle;
  let proxy: FaultProxy;
  let client: RegistryClient;
  let home: string;
  const images: Record<string, RandomImage> = {};

  const cli = (args: readonly string[]): Promise<Outcome> =>
    polypack(["--json", ...args], { env: { POLYPACK_HOME: home } });
  const ok = async (args: readonly string[]): Promise<Report> => {
    const outcome = await cli(args);
    assert.equal(outcome.code, 0, `polypack ${args.join(" ")}\n${outcome.stderr}`);
    return JSON.parse(outcome.stdout) as Report;
  };
  const fails = async (args: readonly string[], code: string, pattern?: RegExp): Promise<Outcome> => {
    const outcome = await cli(args);
    assert.equal(
      outcome.code,
      1,
      `polypack ${args.join(" ")} should fail\n${outcome.stdout}${outcome.stderr}`,
    );
    assert.match(outcome.stderr, new RegExp(`^error\\[${code}\\]`), outcome.stderr);
    if (pattern) assert.match(outcome.stderr, pattern);
    return outcome;
  };
  /** The index a tag names in the registry, or undefined when the tag does not exist. */
  const published = async (
    repo: string,
    tag: string,
  ): Promise<{ index: ImageIndex; digest: string } | undefined> => {
    const response = await fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, {
      headers: { accept: OCI_ACCEPT },
    });
    if (response.status === 404) return undefined;
    assert.equal(response.status, 200);
    return {
      index: (await response.json()) as ImageIndex,
      digest: response.headers.get("docker-content-digest") ?? "",
    };
  };
  const at = (name: string, host = proxy.host, repo = "src/app"): string =>
    `${host}/${repo}@${images[name]!.descriptor.digest}`;

  before(async () => {
    [registry, other] = await Promise.all([startRegistry(), startRegistry()]);
    proxy = await startFaultProxy(registry.url);
    client = new RegistryClient();
    const target = (host: string, repo: string): RegistryTarget =>
      new RegistryTarget(client, Reference.parse(`${host}/${repo}`));
    const app = target(registry.host, "src/app");
    const bp = (id: string): Record<string, string> => ({
      [BUILDPACKAGE]: JSON.stringify({ id, version: "1.0.0" }),
    });
    for (const [name, platform, seed, labels] of [
      ["amd64", "linux/amd64", "a", bp("example/go-dist")],
      ["arm64", "linux/arm64", "b", bp("example/go-dist")],
      ["amd64-again", "linux/amd64", "c", bp("example/go-dist")],
      ["node-arm64", "linux/arm64", "d", bp("example/node-engine")],
    ] as const) {
      images[name] = await writeRandomImage(app, { platform, seed, labels, layerSizes: [200_000] });
    }
    // The same two images in another registry, to be copied rather than mounted.
    const far = target(other.host, "far/app");
    images["far-amd64"] = await writeRandomImage(far, {
      platform: "linux/amd64",
      seed: "a",
      layerSizes: [200_000],
    });
    images["far-arm64"] = await writeRandomImage(far, {
      platform: "linux/arm64",
      seed: "b",
      layerSizes: [200_000],
    });
    for (const [name, platform, seed] of [
      ["docker-amd64", "linux/amd64", "e"],
      ["docker-arm64", "linux/arm64", "f"],
    ] as const) {
      images[name] = await writeRandomImage(app, { platform, seed, mediaTypes: "docker" });
    }
    // An index listing an index, which no index made here may list.
    const inner = await writeRandomIndex(app, { platforms: ["linux/amd64"], seed: "g" });
    const outer = { schemaVersion: 2, mediaType: inner.index.mediaType, manifests: [inner.descriptor] };
    const bytes = Buffer.from(JSON.stringify(outer));
    const { descriptorFor } = await import("../../src/oci/descriptor.js");
    const outerDescriptor = descriptorFor(outer.mediaType!, bytes);
    await app.putManifest(outerDescriptor, bytes);
    await app.tag(outerDescriptor, ["nested"]);
  });
  after(async () => {
    await client?.close();
    await proxy?.stop();
    await Promise.all([registry?.stop(), other?.stop()]);
  });
  beforeEach(async () => {
    home = await tempDir("polypack-home-");
  });

  test("create keeps the index locally; push mounts the children from another repository and tags last; --dry-run's digest is the pushed one", async () => {
    const name = `${proxy.host}/dst/app:1`;
    const created = await ok([
      "manifest",
      "create",
      name,
      at("amd64"),
      at("arm64"),
      "--annotation",
      "org.opencontainers.image.version=1.0.0",
    ]);
    assert.equal(created.outcome, "local");
    assert.equal(await published("dst/app", "1"), undefined, "nothing pushed yet");
    const inspected = JSON.parse((await cli(["manifest", "inspect", name])).stdout) as {
      local: boolean;
      digest: string;
      manifests: { platform: string }[];
    };
    assert.equal(inspected.local, true);
    assert.equal(inspected.digest, created.index.digest);
    assert.deepEqual(
      inspected.manifests.map((m) => m.platform),
      ["linux/amd64", "linux/arm64"],
    );

    const dry = await ok(["manifest", "push", "--dry-run", name]);
    assert.equal(dry.outcome, "dry-run");
    assert.equal(dry.index.digest, created.index.digest);
    assert.equal(await published("dst/app", "1"), undefined, "--dry-run writes nothing");

    proxy.requests.length = 0;
    const pushed = await ok(["manifest", "push", name]);
    assert.equal(pushed.index.digest, dry.index.digest, "--dry-run printed the digest push wrote");
    assert.equal(uploadedBlobBytes(proxy.requests), 0, "every blob mounted, none uploaded");
    assert.deepEqual(pushed.blobs, { uploaded: 0, mounted: 4, moved: 0, existing: 0, bytesUploaded: 0 });
    const mounts = proxy.requests.filter((r) => r.method === "POST" && /mount=/.test(r.path));
    assert.equal(
      new Set(mounts.map((r) => /mount=([^&]+)/.exec(r.path)?.[1])).size,
      mounts.length,
      "each once",
    );
    const puts = proxy.requests.filter((r) => r.method === "PUT").map((r) => r.path);
    assert.deepEqual(
      puts.filter((path) => /\/manifests\/[^/]+$/.test(path)).map((path) => path.endsWith("/manifests/1")),
      [false, false, false, true],
      "two children and the index by digest, then the tag",
    );
    const index = await published("dst/app", "1");
    assert.equal(index?.digest, pushed.index.digest);
    assert.deepEqual(index?.index.annotations, { "org.opencontainers.image.version": "1.0.0" });

    // The same inputs again: the same index, and nothing new written.
    const again = await ok([
      "manifest",
      "create",
      name,
      at("amd64"),
      at("arm64"),
      "--annotation",
      "org.opencontainers.image.version=1.0.0",
    ]);
    assert.equal(again.outcome, "unchanged");
    assert.equal(again.index.digest, created.index.digest);
    proxy.requests.length = 0;
    const repush = await ok(["manifest", "push", "--purge", name]);
    assert.equal(repush.index.digest, created.index.digest);
    assert.deepEqual(
      writes(proxy.requests).map((r) => `${r.method} ${r.path}`),
      [],
      "nothing is written again: the tag already names the index",
    );
    assert.equal(
      await new IndexStore(`${home}/manifests`).read(`${proxy.host}/dst/app:1`),
      undefined,
      "--purge",
    );
    await fails(["manifest", "inspect", `${proxy.host}/dst/app:2`], "REGISTRY_NOT_FOUND");
  });

  test("push copies children that live in another registry, each blob once", async () => {
    const name = `${proxy.host}/copied/app:1`;
    await ok([
      "manifest",
      "create",
      name,
      at("far-amd64", other.host, "far/app"),
      at("far-arm64", other.host, "far/app"),
    ]);
    proxy.requests.length = 0;
    const pushed = await ok(["manifest", "push", name]);
    const far = [images["far-amd64"]!, images["far-arm64"]!];
    const sizes = far.flatMap((i) => [i.manifest.config.size, ...i.manifest.layers.map((l) => l.size)]);
    assert.equal(pushed.blobs?.uploaded, sizes.length);
    assert.equal(
      uploadedBlobBytes(proxy.requests),
      sizes.reduce((a, b) => a + b, 0),
      "each blob sent once",
    );
    assert.equal((await published("copied/app", "1"))?.digest, pushed.index.digest);

    // An index given as a source gives its images, filtered by --platform.
    const picked = await ok([
      "manifest",
      "create",
      "--dry-run",
      `${proxy.host}/picked/app:1`,
      name,
      "--platform",
      "linux/arm64",
    ]);
    assert.deepEqual(
      picked.manifests.map((m) => m.digest),
      [images["far-arm64"]!.descriptor.digest],
    );
    await ok(["manifest", "create", `${proxy.host}/picked/app:1`, name, "--platform", "linux/arm64"]);
    const conflict = await cli([
      "manifest",
      "push",
      "--by-digest",
      "--tag",
      "x",
      `${proxy.host}/picked/app:1`,
    ]);
    assert.equal(conflict.code, 2, conflict.stderr);
    const byDigest = await ok(["manifest", "push", "--by-digest", `${proxy.host}/picked/app:1`]);
    assert.deepEqual(byDigest.tags, []);
    assert.equal(await published("picked/app", "1"), undefined, "--by-digest moves no tag");
    const tagged = await ok(["manifest", "push", "--tag", "latest", `${proxy.host}/picked/app:1`]);
    assert.deepEqual(tagged.tags, ["1", "latest"]);
    assert.equal((await published("picked/app", "latest"))?.digest, byDigest.index.digest);
  });

  test("add, annotate and rm edit the local index; --publish edits the published one in place", async () => {
    const name = `${proxy.host}/edit/app:1`;
    await ok(["manifest", "create", name, at("amd64")]);
    const added = await ok(["manifest", "add", name, at("arm64")]);
    assert.equal(added.manifests.length, 2);
    assert.equal(
      (await ok(["manifest", "add", name, at("arm64")])).outcome,
      "unchanged",
      "adding twice changes nothing",
    );
    const arm64 = images["arm64"]!.descriptor.digest;
    const annotated = await ok([
      "manifest",
      "annotate",
      name,
      arm64,
      "--variant",
      "v8",
      "--annotations",
      "org.example.note=fast",
      "--index-annotation",
      "org.opencontainers.image.version=2",
    ]);
    const entry = annotated.manifests.find((m) => m.digest === arm64);
    assert.deepEqual(entry?.platform, { architecture: "arm64", os: "linux", variant: "v8" });
    assert.deepEqual(entry?.annotations, { "org.example.note": "fast" });
    assert.deepEqual(annotated.annotations, { "org.opencontainers.image.version": "2" });
    const removed = await ok(["manifest", "rm", name, at("amd64")]);
    assert.deepEqual(
      removed.manifests.map((m) => m.digest),
      [arm64],
    );
    const pushed = await ok(["manifest", "push", name]);
    assert.deepEqual(
      (await published("edit/app", "1"))?.index.manifests.map((m) => m.digest),
      [arm64],
    );

    // In place: read from the registry, changed, written back, the tag moved last.
    const inPlace = await ok(["manifest", "add", "--publish", name, at("amd64")]);
    assert.notEqual(inPlace.index.digest, pushed.index.digest);
    assert.equal((await published("edit/app", "1"))?.digest, inPlace.index.digest);
    const dropped = await ok(["manifest", "rm", "--publish", name, arm64]);
    assert.deepEqual(
      (await published("edit/app", "1"))?.index.manifests.map((m) => m.digest),
      [images["amd64"]!.descriptor.digest],
    );
    assert.equal((await published("edit/app", "1"))?.digest, dropped.index.digest);
    await ok([
      "manifest",
      "annotate",
      "--publish",
      name,
      images["amd64"]!.descriptor.digest,
      "--annotations",
      "k=v",
    ]);
    assert.deepEqual((await published("edit/app", "1"))?.index.manifests[0]?.annotations, { k: "v" });

    await ok(["manifest", "remove", name]);
    await fails(["manifest", "push", name], "MANIFEST_LOCAL_NOT_FOUND");
  });

  test("bad input is a clear error and moves no tag", async () => {
    const tag = `${proxy.host}/bad/app:1`;
    await ok(["manifest", "create", "--publish", tag, at("amd64")]);
    const before = await published("bad/app", "1");
    await fails(
      ["manifest", "create", "--publish", tag, `${proxy.host}/src/app:nope`],
      "REGISTRY_NOT_FOUND",
      /nope/,
    );
    await fails(
      ["manifest", "create", "--publish", tag, at("amd64"), at("amd64-again")],
      "MANIFEST_PLATFORM_DUPLICATE",
      /linux\/amd64/,
    );
    await fails(
      ["manifest", "create", "--publish", tag, `${proxy.host}/src/app:nested`],
      "MANIFEST_NESTED_INDEX",
    );
    await fails(
      ["manifest", "create", "--publish", tag, at("amd64"), at("node-arm64")],
      "MANIFEST_CHILDREN_DIFFER",
      /example\/go-dist@1\.0\.0.*example\/node-engine@1\.0\.0/,
    );
    await fails(["manifest", "add", "--publish", tag, at("node-arm64")], "MANIFEST_CHILDREN_DIFFER");
    await fails(
      ["manifest", "annotate", "--publish", tag, images["arm64"]!.descriptor.digest, "--os", "linux"],
      "MANIFEST_ENTRY_NOT_FOUND",
    );
    await fails(
      ["manifest", "create", "--publish", "--format", "docker", tag, at("amd64")],
      "MANIFEST_DOCKER_INCOMPATIBLE",
    );
    assert.deepEqual(await published("bad/app", "1"), before, "the tag never moved");

    // The local index is kept only when it passes the same checks.
    const local = `${proxy.host}/bad/local:1`;
    await fails(["manifest", "create", local, at("amd64"), at("node-arm64")], "MANIFEST_CHILDREN_DIFFER");
    await fails(["manifest", "inspect", local], "REGISTRY_NOT_FOUND");
    await ok(["manifest", "create", local, at("amd64")]);
    const store = new IndexStore(`${home}/manifests`);
    const kept = await readFile(store.pathOf(`${proxy.host}/bad/local:1`), "utf8");
    await fails(["manifest", "annotate", local, at("arm64")], "MANIFEST_ENTRY_NOT_FOUND");
    await fails(
      ["manifest", "annotate", local, at("amd64"), "--arch", "riscv64"],
      "MANIFEST_PLATFORM_MISMATCH",
      /riscv64/,
    );
    await fails(["manifest", "create", local, at("arm64")], "MANIFEST_LOCAL_EXISTS");
    assert.equal(
      await readFile(store.pathOf(`${proxy.host}/bad/local:1`), "utf8"),
      kept,
      "the local index is unchanged",
    );
    // A record edited by hand is checked against the images themselves before any tag moves.
    const record = store.pathOf(`${proxy.host}/bad/local:1`);
    await writeFile(record, kept.replace('"architecture": "amd64"', '"architecture": "s390x"'));
    await fails(["manifest", "push", local], "MANIFEST_PLATFORM_MISMATCH", /s390x/);
    await writeFile(record, kept.replace(/"sha256:[0-9a-f]{64}": "/, '"x": "'));
    await fails(["manifest", "push", local], "MANIFEST_LOCAL_INVALID");
    assert.equal(await published("bad/local", "1"), undefined);
  });

  test("an arm64 entry holding an x86-64 program is refused before anything is pushed; --allow and --no-verify are reported", async () => {
    // A real x86-64 program at /bin/run of an image that says it is arm64, beside a good amd64 one.
    const amd64 = await goProgram("amd64");
    const { size } = await stat(amd64);
    const spool = await LayerSpool.create(`${await tempDir("polypack-manifest-verify-")}/layers`);
    const layer = await spool.write([
      { path: "bin/run", type: "file", mode: 0o755, size, open: () => createReadStream(amd64) },
    ]);
    const wrong = mutateImage(emptyImage({ os: "linux", architecture: "arm64" }), {
      add: [{ layer }],
      labels: images["arm64"]!.config.config!.Labels!,
    });
    const src = new RegistryTarget(client, Reference.parse(`${registry.host}/src/app`));
    const wrongAt = `${proxy.host}/src/app@${(await write(wrong, src)).root.digest}`;
    await spool.remove();
    const pushedTo = (repo: string): RecordedRequest[] =>
      writes(proxy.requests).filter((r) => r.path.startsWith(`/v2/${repo}/`));

    proxy.requests.length = 0;
    const tag = `${proxy.host}/verify/app:1`;
    const refused = await fails(
      ["manifest", "create", "--publish", tag, at("amd64"), wrongAt],
      "VERIFY_FAILED",
      /linux\/arm64: \/bin\/run: expected linux\/arm64, found ELF 64-bit LSB amd64/,
    );
    assert.doesNotMatch(refused.stderr, /linux\/amd64:/, "the good amd64 image has no finding");
    assert.equal(await published("verify/app", "1"), undefined, "no tag");
    assert.deepEqual(pushedTo("verify/app"), [], "nothing written to the index's repository");

    // Kept locally (no publication yet), then refused at push.
    const local = `${proxy.host}/verify/local:1`;
    await ok(["manifest", "create", local, at("amd64"), wrongAt]);
    await fails(["manifest", "push", local], "VERIFY_FAILED", /\/bin\/run/);
    assert.equal(await published("verify/local", "1"), undefined, "no tag");
    assert.deepEqual(pushedTo("verify/local"), [], "nothing written to the index's repository");

    // Meant to be foreign: --allow pushes it and says so; --no-verify pushes it and says so.
    const allowed = await cli(["manifest", "push", local, "--allow", "/bin/run"]);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(
      allowed.stderr,
      /linux\/arm64: \/bin\/run is ELF 64-bit LSB amd64, allowed by --allow \/bin\/run/,
    );
    assert.ok(await published("verify/local", "1"));
    const skipped = await cli(["manifest", "create", "--publish", "--no-verify", tag, at("amd64"), wrongAt]);
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.match(skipped.stderr, /--no-verify: the programs of .* were not checked/);
    assert.ok(await published("verify/app", "1"));

    // Adding the image to a published index is refused the same way, and the tag stays where it was.
    const edit = `${proxy.host}/verify/edit:1`;
    await ok(["manifest", "create", "--publish", edit, at("amd64")]);
    const before = await published("verify/edit", "1");
    proxy.requests.length = 0;
    await fails(["manifest", "add", "--publish", edit, wrongAt], "VERIFY_FAILED", /\/bin\/run/);
    assert.deepEqual(pushedTo("verify/edit"), [], "nothing written to the index's repository");
    assert.deepEqual(await published("verify/edit", "1"), before, "the tag names the old index");
    const added = await cli(["manifest", "add", "--publish", edit, wrongAt, "--allow", "/bin/run"]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stderr, /allowed by --allow \/bin\/run/);
    assert.notDeepEqual(await published("verify/edit", "1"), before);
    assert.match(await run("file", ["-b", amd64]), /x86-64/);
  });

  test("--format docker writes a manifest list that skopeo reads back", async () => {
    const tag = `${registry.host}/docker/app:1`;
    const pushed = await ok([
      "manifest",
      "create",
      "--publish",
      "--format",
      "docker",
      tag,
      at("docker-amd64", registry.host),
      at("docker-arm64", registry.host),
    ]);
    const raw = await run("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${tag}`]);
    const list = JSON.parse(raw) as ImageIndex;
    assert.equal(list.mediaType, "application/vnd.docker.distribution.manifest.list.v2+json");
    assert.deepEqual(
      list.manifests.map((m) => m.digest),
      pushed.manifests.map((m) => m.digest),
    );
    const layout = await tempDir("polypack-docker-copy-");
    await run("skopeo", [
      "copy",
      "--all",
      "--src-tls-verify=false",
      `docker://${tag}`,
      `oci:${layout}:copied`,
    ]);
    await fails(
      [
        "manifest",
        "create",
        "--dry-run",
        "--format",
        "docker",
        tag,
        at("docker-amd64"),
        "--annotation",
        "a=b",
      ],
      "MANIFEST_DOCKER_INCOMPATIBLE",
      /annotations/,
    );
  });
});
