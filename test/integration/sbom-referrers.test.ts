/**
 * SBOMs: per platform, a CycloneDX 1.6 and an SPDX 2.3 document that validate against their JSON
 * schemas, list the buildpack and exactly that platform's dependencies (purl, cpe, checksum,
 * licence, source), and come out byte for byte the same twice. Attached to a registry without the
 * referrers API (Debian's docker-registry), they are found under the `sha256-<hex>` tag by a plain
 * GET; attached to a layout, skopeo reads them by that ref name.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import * as CDX from "@cyclonedx/cyclonedx-library";
import { spdxValidator } from "../../src/sbom/spdx.js";
import { goProgram } from "../support/go-programs.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { startReferrersProxy } from "../support/referrers-proxy.js";
import { startRegistry, type RegistryHandle } from "../support/registry.js";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";
import { polypackOk } from "./buildpack-package-support.js";
import { copyFile, mkdir, writeFile } from "node:fs/promises";

const SHA_AMD64 = "a".repeat(64);
const SHA_ARM64 = "b".repeat(64);
/** The digest of `{}`, the OCI empty descriptor's blob. */
const EMPTY_DIGEST = `sha256:${createHash("sha256").update("{}").digest("hex")}`;

let registry: RegistryHandle;
let dir = "";

function dependency(arch: string, sha: string): string {
  return [
    "[[metadata.dependencies]]",
    'id = "node"',
    'name = "Node.js"',
    'version = "20.11.0"',
    `arch = "${arch}"`,
    `uri = "https://nodejs.org/dist/v20.11.0/node-v20.11.0-linux-${arch}.tar.xz"`,
    `sha256 = "${sha}"`,
    `purl = "pkg:generic/node@20.11.0?arch=${arch}"`,
    'cpes = ["cpe:2.3:a:nodejs:node.js:20.11.0:*:*:*:*:*:*:*"]',
    'source = "https://nodejs.org/dist/v20.11.0/node-v20.11.0.tar.gz"',
    'licenses = ["MIT"]',
    "",
  ].join("\n");
}

before(async () => {
  registry = await startRegistry();
  dir = join(await tempDir("polypack-sbom-"), "bp");
  await mkdir(join(dir, "bin"), { recursive: true });
  await writeFile(
    join(dir, "buildpack.toml"),
    [
      'api = "0.10"',
      "[buildpack]",
      'id = "test/sbom"',
      'version = "2.0.0"',
      'homepage = "https://example.com/sbom"',
      "[[buildpack.licenses]]",
      'type = "Apache-2.0"',
      '[[targets]]\nos = "linux"\narch = "amd64"',
      '[[targets]]\nos = "linux"\narch = "arm64"',
      dependency("amd64", SHA_AMD64),
      dependency("arm64", SHA_ARM64),
    ].join("\n"),
  );
  // pack's folder rule: a target with its own folder gets only that folder's files.
  for (const arch of ["amd64", "arm64"] as const) {
    const bin = join(dir, "linux", arch, "bin");
    await mkdir(bin, { recursive: true });
    await copyFile(await goProgram(arch), join(bin, "run"));
    for (const script of ["detect", "build"]) {
      await writeFile(join(bin, script), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    }
  }
});

after(async () => {
  await registry.stop();
});

async function layout(): Promise<string> {
  const out = join(await tempDir("polypack-sbom-out-"), "layout");
  await polypackOk([
    "buildpack",
    "package",
    "test/sbom",
    "--path",
    dir,
    "--format",
    "layout",
    "--output",
    out,
  ]);
  return out;
}

describe("polypack sbom", () => {
  test("each platform's CycloneDX and SPDX documents validate, list that platform only, and repeat exactly", async () => {
    const out = await layout();
    const docs = await tempDir("polypack-sbom-docs-");
    await polypackOk(["sbom", `oci:${out}`, "--output", docs]);
    const cdxValidator = new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot6);
    const validSpdx = spdxValidator();
    for (const [arch, sha, other] of [
      ["amd64", SHA_AMD64, SHA_ARM64],
      ["arm64", SHA_ARM64, SHA_AMD64],
    ] as const) {
      const cdxText = await readFile(join(docs, `linux-${arch}.cdx.json`), "utf8");
      assert.equal(
        await cdxValidator.validate(cdxText),
        null,
        `linux-${arch}.cdx.json is valid CycloneDX 1.6`,
      );
      const cdx = JSON.parse(cdxText) as {
        specVersion: string;
        serialNumber?: string;
        metadata: { timestamp?: string; component: { name: string; version: string } };
        components: { name: string; purl?: string; cpe?: string; hashes?: { content: string }[] }[];
      };
      assert.equal(cdx.specVersion, "1.6");
      assert.equal(cdx.serialNumber, undefined, "no random serial number");
      assert.equal(cdx.metadata.timestamp, undefined, "no timestamp");
      assert.deepEqual([cdx.metadata.component.name, cdx.metadata.component.version], ["test/sbom", "2.0.0"]);
      assert.deepEqual(
        cdx.components.map((c) => [c.name, c.purl, c.cpe, c.hashes?.[0]?.content]),
        [
          [
            "Node.js",
            `pkg:generic/node@20.11.0?arch=${arch}`,
            "cpe:2.3:a:nodejs:node.js:20.11.0:*:*:*:*:*:*:*",
            sha,
          ],
        ],
      );
      assert.doesNotMatch(cdxText, new RegExp(other));

      const spdxText = await readFile(join(docs, `linux-${arch}.spdx.json`), "utf8");
      const spdx = JSON.parse(spdxText) as {
        packages: { name: string; checksums?: { checksumValue: string }[] }[];
      };
      assert.equal(validSpdx(spdx), true, JSON.stringify(validSpdx.errors));
      assert.deepEqual(
        spdx.packages.map((p) => [p.name, p.checksums?.[0]?.checksumValue]),
        [
          ["test/sbom", undefined],
          ["Node.js", sha],
        ],
      );
      assert.doesNotMatch(spdxText, new RegExp(other));
    }
    // Reproducible: the same image gives the same bytes.
    const again = await polypackOk(["sbom", `oci:${out}`, "--platform", "linux/arm64", "--format", "spdx"]);
    assert.equal(again.stdout, await readFile(join(docs, "linux-arm64.spdx.json"), "utf8"));
  });

  test("buildpack package --sbom writes them beside a .cnb, the same bytes `polypack sbom` makes", async () => {
    const cnb = join(await tempDir("polypack-sbom-cnb-"), "out.cnb");
    const packaged = await polypackOk([
      "buildpack",
      "package",
      "test/sbom",
      "--path",
      dir,
      "--output",
      cnb,
      "--sbom",
    ]);
    assert.match(packaged.stderr, /sbom linux\/arm64 spdx: .*out\.cnb\.sbom\/linux-arm64\.spdx\.json/);
    const made = await polypackOk(["sbom", cnb, "--platform", "linux/arm64", "--format", "cyclonedx"]);
    assert.equal(await readFile(`${cnb}.sbom/linux-arm64.cdx.json`, "utf8"), made.stdout);
    // Printing one platform's document needs no --format: CycloneDX, as the help's example says.
    const printed = await polypackOk(["sbom", cnb, "--target", "linux/arm64"]);
    assert.equal(printed.stdout, made.stdout);
  });

  test("attached in a registry without the referrers API, the documents sit under the sha256-<hex> tag", async () => {
    const name = `${registry.host}/sbom/test:2.0.0`;
    await polypackOk([
      "--insecure-registry",
      registry.host,
      "buildpack",
      "package",
      name,
      "--path",
      dir,
      "--publish",
    ]);
    const attached = await polypackOk([
      "--insecure-registry",
      registry.host,
      "--json",
      "sbom",
      name,
      "--attach",
    ]);
    const report = JSON.parse(attached.stdout) as {
      documents: { platform: string; format: string; route: string }[];
    };
    assert.deepEqual(
      report.documents.map((d) => [d.platform, d.format, d.route]),
      [
        ["linux/amd64", "cyclonedx", "tag-scheme"],
        ["linux/amd64", "spdx", "tag-scheme"],
        ["linux/arm64", "cyclonedx", "tag-scheme"],
        ["linux/arm64", "spdx", "tag-scheme"],
      ],
    );
    // Attaching again changes nothing: the same manifests, listed once.
    await polypackOk(["--insecure-registry", registry.host, "sbom", name, "--attach"]);
    const index = JSON.parse(
      await run("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${name}`]),
    ) as { manifests: { digest: string; platform: { architecture: string } }[] };
    const arm64 = index.manifests.find((m) => m.platform.architecture === "arm64")!;
    const tag = `sha256-${arm64.digest.slice(7)}`;
    const referrers = JSON.parse(await plainGet(`${registry.url}/v2/sbom/test/manifests/${tag}`)) as {
      manifests: { digest: string; artifactType: string }[];
    };
    assert.deepEqual(
      referrers.manifests.map((m) => m.artifactType),
      ["application/vnd.cyclonedx+json", "application/spdx+json"],
    );
    const manifest = JSON.parse(
      await plainGet(`${registry.url}/v2/sbom/test/manifests/${referrers.manifests[1]!.digest}`),
    ) as { subject: { digest: string }; layers: { digest: string; mediaType: string }[] };
    assert.equal(manifest.subject.digest, arm64.digest);
    const spdx = JSON.parse(
      await plainGet(`${registry.url}/v2/sbom/test/blobs/${manifest.layers[0]!.digest}`),
    ) as {
      name: string;
    };
    assert.equal(spdx.name, "test/sbom@2.0.0 linux/arm64");
  });

  test("a registry with the referrers API gets them through the API, and no sha256-<hex> tag", async (t) => {
    const api = await startReferrersProxy(registry.url);
    t.after(() => api.stop());
    const name = `${api.host}/sbom/api:2.0.0`;
    const packaged = await polypackOk([
      "--insecure-registry",
      api.host,
      "buildpack",
      "package",
      name,
      "--path",
      dir,
      "--publish",
      "--sbom",
    ]);
    for (const platform of ["linux/amd64", "linux/arm64"]) {
      for (const format of ["cyclonedx", "spdx"]) {
        assert.match(packaged.stderr, new RegExp(`sbom ${platform} ${format}: referrers-api `));
      }
    }
    const tags = (JSON.parse(await plainGet(`${registry.url}/v2/sbom/api/tags/list`)) as { tags: string[] })
      .tags;
    assert.deepEqual(tags, ["2.0.0"], "no tag-scheme index where the API answers");
    const index = JSON.parse(
      await run("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${name}`]),
    ) as { manifests: { digest: string; platform: { architecture: string } }[] };
    for (const entry of index.manifests) {
      const listed = JSON.parse(await plainGet(`${api.url}/v2/sbom/api/referrers/${entry.digest}`)) as {
        manifests: { artifactType: string; digest: string }[];
      };
      assert.deepEqual(
        listed.manifests.map((m) => m.artifactType),
        ["application/vnd.cyclonedx+json", "application/spdx+json"],
      );
      // The referrer manifests are in the registry itself, naming the platform manifest.
      const manifest = JSON.parse(
        await plainGet(`${registry.url}/v2/sbom/api/manifests/${listed.manifests[0]!.digest}`),
      ) as { subject: { digest: string } };
      assert.equal(manifest.subject.digest, entry.digest);
    }
    assert.ok(api.referrersGets.length >= 4, "polypack asked the referrers API");
  });

  test("attached to a layout, skopeo finds the referrers index by its tag-scheme ref name", async () => {
    const out = await layout();
    await polypackOk(["sbom", `oci:${out}`, "--attach", "--platform", "linux/amd64"]);
    const root = JSON.parse(await run("skopeo", ["inspect", "--raw", `oci:${out}:latest`])) as {
      manifests: { digest: string; platform: { architecture: string } }[];
    };
    const amd64 = root.manifests.find((m) => m.platform.architecture === "amd64")!;
    const referrers = JSON.parse(
      await run("skopeo", ["inspect", "--raw", `oci:${out}:sha256-${amd64.digest.slice(7)}`]),
    ) as { manifests: { artifactType: string }[] };
    assert.deepEqual(
      referrers.manifests.map((m) => m.artifactType),
      ["application/vnd.cyclonedx+json", "application/spdx+json"],
    );
    // The referrers' refs do not make the layout ambiguous: without a ref, polypack reads the package.
    const verified = await polypackOk(["--json", "verify", `oci:${out}`]);
    const layoutIndex = JSON.parse(await readFile(join(out, "index.json"), "utf8")) as {
      manifests: { digest: string; annotations?: Record<string, string> }[];
    };
    const latest = layoutIndex.manifests.find(
      (m) => m.annotations?.["org.opencontainers.image.ref.name"] === "latest",
    );
    assert.equal(layoutIndex.manifests.length, 2, "latest and one referrers index");
    assert.equal((JSON.parse(verified.stdout) as { digest: string }).digest, latest?.digest);
    // Copied to a registry, the package takes its referrers along from the layout's tag scheme.
    await polypackOk([
      "--insecure-registry",
      registry.host,
      "copy",
      `oci:${out}`,
      `${registry.host}/lands/layout:1`,
    ]);
    assert.deepEqual(
      (await referrersIn("lands/layout", amd64.digest)).map((m) => m.artifactType),
      [CDX_TYPE, SPDX_TYPE],
    );
  });
});

const CDX_TYPE = "application/vnd.cyclonedx+json";
const SPDX_TYPE = "application/spdx+json";

/** The platform manifests of the index `repository:tag` names in the registry at `base`. */
async function platformDigests(base: string, repository: string, tag: string): Promise<Map<string, string>> {
  const index = JSON.parse(await plainGet(`${base}/v2/${repository}/manifests/${tag}`)) as {
    manifests: { digest: string; platform: { architecture: string } }[];
  };
  return new Map(index.manifests.map((m) => [m.platform.architecture, m.digest]));
}

/**
 * The referrers `repository` lists for `subject` (through the API at `api`, else under the tag
 * scheme's `sha256-<hex>` tag), each checked to be stored in that repository and to name `subject`.
 */
async function referrersIn(
  repository: string,
  subject: string,
  api?: string,
): Promise<{ artifactType: string; digest: string; annotations?: Record<string, string> }[]> {
  const listed = JSON.parse(
    await plainGet(
      api === undefined
        ? `${registry.url}/v2/${repository}/manifests/sha256-${subject.slice(7)}`
        : `${api}/v2/${repository}/referrers/${subject}`,
    ),
  ) as { manifests: { artifactType: string; digest: string; annotations?: Record<string, string> }[] };
  for (const entry of listed.manifests) {
    const manifest = JSON.parse(
      await plainGet(`${registry.url}/v2/${repository}/manifests/${entry.digest}`),
    ) as { subject: { digest: string }; layers: { digest: string }[] };
    assert.equal(manifest.subject.digest, subject, `${entry.digest} in ${repository} names its subject`);
    for (const layer of manifest.layers) {
      const blob = await fetch(`${registry.url}/v2/${repository}/blobs/${layer.digest}`);
      assert.equal(blob.status, 200, `${layer.digest} is in ${repository}`);
      await blob.arrayBuffer();
    }
  }
  return listed.manifests;
}

/** The repository's `sha256-<hex>` tags. */
async function schemeTags(repository: string): Promise<string[]> {
  const listed = JSON.parse(await plainGet(`${registry.url}/v2/${repository}/tags/list`)) as {
    tags: string[];
  };
  return listed.tags.filter((tag) => /^sha256-[0-9a-f]{64}$/.test(tag));
}

/** How many manifest PUTs under `path` (a regular expression's source) the proxy saw. */
function puts(proxy: FaultProxy, path: RegExp): number {
  return proxy.requests.filter((r) => r.method === "PUT" && path.test(r.path)).length;
}

/** Stores a manifest by its digest with a plain PUT; returns its descriptor. */
async function putManifest(repository: string, body: unknown): Promise<{ digest: string; size: number }> {
  const bytes = Buffer.from(JSON.stringify(body));
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  const response = await fetch(`${registry.url}/v2/${repository}/manifests/${digest}`, {
    method: "PUT",
    headers: { "content-type": (body as { mediaType: string }).mediaType },
    body: bytes,
  });
  assert.equal(response.status, 201, await response.text());
  return { digest, size: bytes.length };
}

const INDEX = "application/vnd.oci.image.index.v1+json";

describe("referrers where a package lands", () => {
  test("tag scheme: one index update per subject, kept and merged; --tag OTHER/REPO:TAG and copy carry every referrer, before the tag", async (t) => {
    const proxy = await startFaultProxy(registry.url);
    t.after(() => proxy.stop());
    const name = `${proxy.host}/lands/tags:2.0.0`;
    await polypackOk([
      "--insecure-registry",
      proxy.host,
      "buildpack",
      "package",
      name,
      "--path",
      dir,
      "--publish",
      "--tag",
      `${proxy.host}/lands/tags-mirror:t`,
    ]);
    const subjects = await platformDigests(registry.url, "lands/tags", "2.0.0");
    assert.equal(subjects.size, 2);
    for (const [arch, subject] of subjects) {
      const tag = new RegExp(`/manifests/sha256-${subject.slice(7)}$`);
      // Two documents, one read-modify-write of the subject's index in each repository.
      assert.equal(puts(proxy, new RegExp(`^/v2/lands/tags${tag.source}`)), 1, `${arch}: one tag write`);
      assert.equal(puts(proxy, new RegExp(`^/v2/lands/tags-mirror${tag.source}`)), 1, `${arch}: mirror`);
      for (const repository of ["lands/tags", "lands/tags-mirror"]) {
        const listed = await referrersIn(repository, subject);
        assert.deepEqual(
          listed.map((m) => m.artifactType),
          [CDX_TYPE, SPDX_TYPE],
          `${repository} ${arch}`,
        );
      }
    }
    // In the other repository the tag comes after every referrer and referrers index.
    const mirrorPuts = proxy.requests.filter(
      (r) => r.method === "PUT" && r.path.startsWith("/v2/lands/tags-mirror/manifests/"),
    );
    assert.equal(mirrorPuts.at(-1)?.path, "/v2/lands/tags-mirror/manifests/t");
    assert.equal(
      mirrorPuts.length,
      12,
      "2 platforms, 4 referrers, 2 referrers indexes and their tags, the index and t",
    );

    // Someone else's referrer and a stale description of ours: both kept, nothing listed twice,
    // one tag write for the subject that changed and none for the one that did not.
    const arm64 = subjects.get("arm64")!;
    const armTag = `sha256-${arm64.slice(7)}`;
    const [cdx, spdx] = await referrersIn("lands/tags", arm64);
    const empty = { mediaType: "application/vnd.oci.empty.v1+json", digest: EMPTY_DIGEST, size: 2 };
    const note = await putManifest("lands/tags", {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      artifactType: "application/vnd.example.note",
      config: empty,
      layers: [empty],
      subject: {
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: arm64,
        size: Buffer.byteLength(await plainGet(`${registry.url}/v2/lands/tags/manifests/${arm64}`)),
      },
    });
    const noteEntry = {
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      ...note,
      artifactType: "application/vnd.example.note",
    };
    const seeded = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: INDEX,
        manifests: [noteEntry, spdx, { ...cdx, annotations: { stale: "yes" } }],
      }),
    );
    const seededPut = await fetch(`${registry.url}/v2/lands/tags/manifests/${armTag}`, {
      method: "PUT",
      headers: { "content-type": INDEX },
      body: seeded,
    });
    assert.equal(seededPut.status, 201);
    const before = proxy.requests.length;
    await polypackOk(["--insecure-registry", proxy.host, "sbom", name, "--attach"]);
    const again = proxy.requests.slice(before).filter((r) => r.method === "PUT");
    assert.deepEqual(
      again.filter((r) => /\/manifests\/sha256-/.test(r.path)).map((r) => r.path),
      [`/v2/lands/tags/manifests/${armTag}`],
    );
    const merged = await referrersIn("lands/tags", arm64);
    assert.deepEqual(
      merged.map((m) => [m.artifactType, m.digest, m.annotations]),
      [
        ["application/vnd.example.note", note.digest, undefined],
        [SPDX_TYPE, spdx!.digest, undefined],
        [CDX_TYPE, cdx!.digest, undefined],
      ],
    );

    // `polypack copy` to a registry carries them all (someone else's too); --no-referrers none. A
    // registry that answers 405 to the referrers API has none: the tag scheme is used.
    proxy.rules.push({
      method: "GET",
      path: /\/referrers\//,
      times: Infinity,
      action: { kind: "status", status: 405 },
    });
    await polypackOk(["--insecure-registry", proxy.host, "copy", name, `${proxy.host}/lands/copied:1`]);
    assert.ok(
      proxy.requests.some((r) => r.fault === "status"),
      "the referrers API was asked",
    );
    proxy.rules.length = 0;
    assert.deepEqual(
      (await referrersIn("lands/copied", arm64)).map((m) => m.artifactType),
      ["application/vnd.example.note", SPDX_TYPE, CDX_TYPE],
    );
    assert.deepEqual(
      (await referrersIn("lands/copied", subjects.get("amd64")!)).map((m) => m.artifactType),
      [CDX_TYPE, SPDX_TYPE],
    );
    const copiedPuts = proxy.requests.filter(
      (r) => r.method === "PUT" && r.path.startsWith("/v2/lands/copied/manifests/"),
    );
    assert.equal(copiedPuts.at(-1)?.path, "/v2/lands/copied/manifests/1", "the tag last");
    await polypackOk([
      "--insecure-registry",
      proxy.host,
      "copy",
      "--no-referrers",
      name,
      `${proxy.host}/lands/bare:1`,
    ]);
    assert.deepEqual(await schemeTags("lands/bare"), []);
  });

  test("referrers API: --tag OTHER/REPO:TAG gets each platform's documents through the API, before the tag", async (t) => {
    const api = await startReferrersProxy(registry.url);
    t.after(() => api.stop());
    const proxy = await startFaultProxy(api.url);
    t.after(() => proxy.stop());
    const name = `${proxy.host}/lands/api:2.0.0`;
    await polypackOk([
      "--insecure-registry",
      proxy.host,
      "buildpack",
      "package",
      name,
      "--path",
      dir,
      "--publish",
      "--tag",
      `${proxy.host}/lands/api-mirror:t`,
    ]);
    const subjects = await platformDigests(registry.url, "lands/api", "2.0.0");
    for (const [arch, subject] of subjects) {
      const listed = await referrersIn("lands/api-mirror", subject, api.url);
      assert.deepEqual(
        listed.map((m) => m.artifactType),
        [CDX_TYPE, SPDX_TYPE],
        `lands/api-mirror ${arch}`,
      );
    }
    assert.deepEqual(await schemeTags("lands/api-mirror"), [], "no tag scheme where the API answers");
    const mirrorPuts = proxy.requests.filter(
      (r) => r.method === "PUT" && r.path.startsWith("/v2/lands/api-mirror/manifests/"),
    );
    assert.equal(mirrorPuts.length, 8, "2 platforms, 4 referrers, the index and its tag");
    assert.equal(mirrorPuts.at(-1)?.path, "/v2/lands/api-mirror/manifests/t");
  });
});

function plainGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(
      url,
      {
        headers: {
          accept: "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json",
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          response.statusCode === 200
            ? resolve(Buffer.concat(chunks).toString("utf8"))
            : reject(new Error(`GET ${url}: ${response.statusCode}`)),
        );
      },
    )
      .on("error", reject)
      .end();
  });
}
