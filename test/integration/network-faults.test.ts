/**
 * Network failures seen from the command line: a registry host that does not resolve, a registry
 * that stalls, a corrupt blob in a local source, and a registry source whose blob bodies arrive
 * corrupt or cut short. The registry is real; faults come from the proxy in front of it.
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import "../support/fake-dns.js";
import { FAKE_DNS_MODULE } from "../support/fake-dns.js";
import { isPolypackError } from "../../src/errors/index.js";
import { DependencyCache } from "../../src/dependencies/cache.js";
import { downloadDependencies } from "../../src/dependencies/download.js";
import { LayoutTarget } from "../../src/layout/layout-target.js";
import { Digest } from "../../src/oci/digest.js";
import { RegistryClient, RegistryTarget, Reference } from "../../src/api/registry.js";
import { polypack } from "../support/cli.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { writeRandomIndex } from "../support/images.js";
import { startRegistry, type RegistryHandle } from "../support/registry.js";
import { tempDir } from "../support/tmp.js";
import { checksumOf, dependency } from "../unit/dependencies/fixtures.js";
import { makeImage, makeIndex, pushIndex, type TestImage } from "./registry-images.js";

let registry: RegistryHandle;
let proxy: FaultProxy;
let direct: RegistryClient;

before(async () => {
  registry = await startRegistry();
  proxy = await startFaultProxy(registry.url);
  direct = new RegistryClient();
});
after(async () => {
  await direct.close();
  await proxy.stop();
  await registry.stop();
});

/** Pushes a one-platform index straight to the registry, tagged `v1`. */
async function seed(repository: string): Promise<TestImage> {
  const image = await makeImage();
  const target = new RegistryTarget(direct, Reference.parse(`${registry.host}/${repository}`));
  await pushIndex(target, [image], makeIndex([image]), ["v1"]);
  return image;
}

/** Requests the proxy saw for a repository's blob. */
function blobRequests(repository: string, digest: string): { method: string; fault?: string }[] {
  return proxy.requests.filter((r) => r.path.startsWith(`/v2/${repository}/blobs/${digest}`));
}

test("a registry host that does not resolve is REGISTRY_UNAVAILABLE naming it, exit 1, without retries", async () => {
  const started = Date.now();
  const result = await polypack(["manifest", "inspect", "registry.invalid/org/app:1.0"], {
    env: { NODE_OPTIONS: `--import=${FAKE_DNS_MODULE}` },
  });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /^error\[REGISTRY_UNAVAILABLE\]: .*registry\.invalid/m);
  assert.match(result.stderr, /does not resolve/);
  assert.doesNotMatch(result.stderr, /bug in polypack|INTERNAL|\n\s+at /);
  assert.ok(Date.now() - started < 5000, "a name that does not resolve is not retried for seconds");
});

test("a dependency host that does not resolve is a user error naming the URL, not retried", async () => {
  const sleeps: number[] = [];
  const uri = "https://files.invalid/dist/hello-1.0.tgz";
  await assert.rejects(
    downloadDependencies(
      [
        {
          dependency: dependency({ id: "hello", version: "1.0", uri, checksum: checksumOf("x") }),
          target: "linux/amd64",
        },
      ],
      {
        baseDir: "/",
        cache: new DependencyCache(await tempDir()),
        sleep: (ms) => (sleeps.push(ms), Promise.resolve()),
      },
    ),
    (error) => {
      assert.ok(isPolypackError(error, "DEPENDENCY_DOWNLOAD_FAILED"), String(error));
      assert.equal(error.internal, false);
      assert.match(
        error.message,
        /hello 1\.0 for linux\/amd64 from https:\/\/files\.invalid\/dist\/hello-1\.0\.tgz/,
      );
      assert.match(error.message, /files\.invalid does not resolve/);
      return true;
    },
  );
  assert.deepEqual(sleeps, []);
});

test("a stalled registry answer times out after --registry-timeout and is retried", async () => {
  await seed("net/stall");
  proxy.rules.push({
    method: "HEAD",
    path: /^\/v2\/net\/stall\/manifests\/v1$/,
    action: { kind: "delay", ms: 8000 },
  });
  const started = Date.now();
  const result = await polypack([
    "--registry-timeout",
    "0.5",
    "--json",
    "manifest",
    "inspect",
    `${proxy.host}/net/stall:v1`,
  ]);
  const elapsed = Date.now() - started;
  assert.equal(result.code, 0, result.stderr);
  const heads = proxy.requests.filter((r) => r.method === "HEAD" && r.path === "/v2/net/stall/manifests/v1");
  assert.equal(heads.length, 2, "the stalled request and its retry");
  assert.equal(heads[0]!.fault, "delay");
  assert.ok(elapsed < 6000, `took ${elapsed} ms; the stall was not cut short`);
});

test("an upload whose answer stalls past the idle timeout is restarted and completes", async () => {
  const client = new RegistryClient({ timeoutMs: 300, retry: { baseDelayMs: 10 } });
  after(() => client.close());
  const image = await makeImage();
  proxy.rules.push({
    method: "PUT",
    path: /^\/v2\/net\/slow-put\/blobs\/uploads\//,
    action: { kind: "delay", ms: 3000 },
  });
  const target = new RegistryTarget(client, Reference.parse(`${proxy.host}/net/slow-put`));
  await pushIndex(target, [image], makeIndex([image]), ["v1"]);
  const puts = proxy.requests.filter(
    (r) => r.method === "PUT" && r.path.startsWith("/v2/net/slow-put/blobs/uploads/"),
  );
  assert.equal(puts[0]!.fault, "delay");
  assert.equal(puts.length, 4, "three blobs, one of them twice");
});

test("a blob body that stalls half way is dropped after --registry-timeout and fetched again", async () => {
  const image = await seed("net/stall-body");
  const layer = image.layers[1]!;
  proxy.rules.push({
    method: "GET",
    path: new RegExp(`^/v2/net/stall-body/blobs/${layer.descriptor.digest}`),
    action: { kind: "stall" },
  });
  const layout = join(await tempDir(), "out");
  const started = Date.now();
  const result = await polypack([
    "--registry-timeout",
    "0.5",
    "copy",
    `${proxy.host}/net/stall-body:v1`,
    `oci:${layout}:v1`,
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(Date.now() - started < 8000, "the stall was cut short");
  const stored = await readFile(join(layout, "blobs", "sha256", Digest.parse(layer.descriptor.digest).hex));
  assert.deepEqual(stored, layer.bytes);
  const gets = blobRequests("net/stall-body", layer.descriptor.digest).filter((r) => r.method === "GET");
  assert.deepEqual(
    gets.map((r) => r.fault),
    ["stall", undefined],
  );
});

test("a bad --registry-timeout is a usage error", async () => {
  const result = await polypack(["--registry-timeout", "soon", "manifest", "inspect", "ghcr.io/a/b:1"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /positive number of seconds/);
});

test("a corrupt blob in a layout copied to a registry is DIGEST_MISMATCH naming the blob, at once, without retries", async () => {
  const layout = join(await tempDir(), "layout");
  const target = await LayoutTarget.create(layout);
  const seeded = await writeRandomIndex(target, {
    platforms: ["linux/amd64"],
    layerSizes: [300_000],
    tag: "v1",
  });
  await target.commit();
  const layer = seeded.images[0]!.layers[0]!.descriptor;
  const file = join(layout, "blobs", "sha256", Digest.parse(layer.digest).hex);
  const bytes = await readFile(file);
  for (let i = 1000; i < 1010; i++) bytes[i] = bytes[i]! ^ 0xff;
  await writeFile(file, bytes);

  const before = proxy.requests.length;
  const started = Date.now();
  const result = await polypack(["--json", "copy", `oci:${layout}:v1`, `${proxy.host}/net/corrupt:v1`]);
  const elapsed = Date.now() - started;
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /^error\[DIGEST_MISMATCH\]: /m);
  assert.ok(result.stderr.includes(layer.digest), result.stderr);
  assert.doesNotMatch(result.stderr, /REGISTRY_UNAVAILABLE|socket hang up/);
  const json = JSON.parse(result.stdout) as { error: { code: string; message: string } };
  assert.equal(json.error.code, "DIGEST_MISMATCH");
  const uploads = proxy.requests
    .slice(before)
    .filter((r) => (r.method === "PUT" || r.method === "PATCH") && r.path.includes("/blobs/uploads/"))
    .filter((r) => r.path.includes(encodeURIComponent(layer.digest)) || r.path.includes(layer.digest));
  assert.ok(uploads.length <= 1, `the corrupt blob was sent ${uploads.length} times`);
  assert.ok(elapsed < 4000, `took ${elapsed} ms`);
});

test("copying from a registry to a layout fetches a corrupt or truncated blob body again", async () => {
  const image = await seed("net/flaky");
  const [small, large] = image.layers;
  proxy.rules.push(
    {
      method: "GET",
      path: new RegExp(`^/v2/net/flaky/blobs/${large!.descriptor.digest}`),
      action: { kind: "corrupt" },
    },
    {
      method: "GET",
      path: new RegExp(`^/v2/net/flaky/blobs/${small!.descriptor.digest}`),
      action: { kind: "truncate" },
    },
  );
  const layout = join(await tempDir(), "out");
  const result = await polypack(["--json", "copy", `${proxy.host}/net/flaky:v1`, `oci:${layout}:v1`]);
  assert.equal(result.code, 0, result.stderr);
  for (const blob of [small!, large!]) {
    const stored = await readFile(join(layout, "blobs", "sha256", Digest.parse(blob.descriptor.digest).hex));
    assert.deepEqual(stored, blob.bytes);
    const gets = blobRequests("net/flaky", blob.descriptor.digest).filter((r) => r.method === "GET");
    assert.equal(gets.length, 2, `${blob.descriptor.digest}: the faulty GET and one more`);
    assert.ok(gets[0]!.fault);
  }
});

test("a bare name that is no file here is read as a Docker Hub image, and the failure says so", async () => {
  const cwd = await tempDir("polypack-bare-name-");
  const result = await polypack(["verify", "my-buildpak"], {
    cwd,
    env: { NODE_OPTIONS: `--import=${FAKE_DNS_MODULE}` },
  });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /^error\[REGISTRY_UNAVAILABLE\]: /m);
  assert.match(
    result.stderr,
    /hint: no file or folder "my-buildpak" is here, so it was read as the image docker\.io\/library\/my-buildpak:latest; for a local path write \.\/my-buildpak/,
  );
});
