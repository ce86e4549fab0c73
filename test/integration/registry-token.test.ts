/**
 * The registry client against a real distribution registry in token-auth mode: scopes asked for,
 * token reuse, refusals as typed errors, and interoperability with skopeo using the same credentials.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { after, before, describe, test } from "node:test";
import { isPolypackError } from "../../src/errors/index.js";
import { descriptorFor, type Descriptor } from "../../src/oci/descriptor.js";
import { buildImageManifest, encodeJSON } from "../../src/oci/manifest.js";
import { MediaType } from "../../src/oci/media-types.js";
import { RegistryClient } from "../../src/registry/client.js";
import { defaultCredentialProvider } from "../../src/registry/credentials/default.js";
import { StaticCredentialProvider } from "../../src/registry/credentials/explicit.js";
import type { CredentialProvider } from "../../src/registry/credentials/types.js";
import { RegistryError } from "../../src/registry/errors.js";
import { Reference } from "../../src/registry/reference.js";
import { RegistrySource } from "../../src/registry/source.js";
import { RegistryTarget } from "../../src/registry/target.js";
import {
  startTokenRegistry,
  writeAuthFile,
  type TokenRegistryHandle,
  type TokenRequestRecord,
} from "../support/token-issuer.js";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";

/** A small image made of random bytes, so every test run pushes content the registry has not seen. */
interface TestImage {
  layer: { descriptor: Descriptor; bytes: Buffer };
  config: { descriptor: Descriptor; bytes: Buffer };
  manifest: { descriptor: Descriptor; bytes: Buffer };
}

function makeImage(): TestImage {
  // Really gzip-compressed: skopeo recompresses layers whose bytes do not look compressed.
  const layerBytes = gzipSync(randomBytes(4096));
  const layer = descriptorFor(MediaType.ociLayerGzip, layerBytes);
  const configBytes = encodeJSON({
    architecture: "amd64",
    os: "linux",
    rootfs: { type: "layers", diff_ids: [layer.digest] },
  });
  const config = descriptorFor(MediaType.ociConfig, configBytes);
  const manifestBytes = encodeJSON(buildImageManifest(config, [layer]));
  return {
    layer: { descriptor: layer, bytes: layerBytes },
    config: { descriptor: config, bytes: configBytes },
    manifest: { descriptor: descriptorFor(MediaType.ociManifest, manifestBytes), bytes: manifestBytes },
  };
}

async function push(target: RegistryTarget, image: TestImage, tag: string): Promise<void> {
  for (const blob of [image.layer, image.config]) {
    await target.putBlob(blob.descriptor, () => Promise.resolve(Readable.from([blob.bytes])));
  }
  await target.putManifest(image.manifest.descriptor, image.manifest.bytes);
  await target.tag(image.manifest.descriptor, [tag]);
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Every scope the issuer was asked for, each `type:name:actions` with actions sorted. */
function scopesAsked(records: readonly TokenRequestRecord[]): Set<string> {
  return new Set(
    records.flatMap((r) =>
      r.scopes.map((scope) => {
        const split = scope.lastIndexOf(":");
        return `${scope.slice(0, split)}:${scope
          .slice(split + 1)
          .split(",")
          .sort()
          .join(",")}`;
      }),
    ),
  );
}

/** Token requests that asked for exactly the same scopes as an earlier one: a cache miss. */
function repeatedRequests(records: readonly TokenRequestRecord[]): string[] {
  const seen = new Set<string>();
  const repeated: string[] = [];
  for (const record of records) {
    const key = [...record.scopes].sort().join(" ");
    if (seen.has(key)) repeated.push(key);
    seen.add(key);
  }
  return repeated;
}

// Made at module level: a tempDir made inside a before() hook would be removed when the hook ends.
const dir = await tempDir();

describe("registry client with token auth", () => {
  let registry: TokenRegistryHandle;
  let authFile: string;
  let credentials: CredentialProvider;
  const clients: RegistryClient[] = [];
  const image = makeImage();

  const clientWith = (provider: CredentialProvider | undefined): RegistryClient => {
    const client = new RegistryClient(provider === undefined ? {} : { credentials: provider });
    clients.push(client);
    return client;
  };
  const ref = (path: string): Reference => Reference.parse(`${registry.host}/${path}`);

  before(async () => {
    registry = await startTokenRegistry();
    authFile = await writeAuthFile(dir, registry.host, registry.username, registry.password);
    // The library's own lookup, reading the same containers auth file skopeo is given below.
    credentials = defaultCredentialProvider({
      env: { REGISTRY_AUTH_FILE: authFile },
      homeDir: join(dir, "empty-home"),
    });
  });

  after(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await registry.stop();
  });

  test("a push asks for push and pull on the target repository only, and reuses its tokens", async () => {
    registry.issuer.clearRequests();
    const target = new RegistryTarget(clientWith(credentials), ref("test/app"));
    await push(target, image, "v1");

    const records = registry.issuer.requests;
    assert.ok(records.length > 0, "the registry challenged and a token was fetched");
    assert.ok(
      records.every((r) => r.status === 200 && r.credentialsSent && r.username === registry.username),
    );
    assert.ok(records.every((r) => r.service === registry.issuer.service));
    assert.ok(scopesAsked(records).has("repository:test/app:pull,push"), [...scopesAsked(records)].join(" "));
    for (const scope of scopesAsked(records)) assert.match(scope, /^repository:test\/app:/);
    assert.deepEqual(repeatedRequests(records), []);

    // More work on the same repository needs no new token.
    const before = records.length;
    const second = makeImage();
    await push(target, second, "v2");
    assert.equal(registry.issuer.requests.length, before);
  });

  test("a pull reads back what was pushed, asking for pull only", async () => {
    registry.issuer.clearRequests();
    const source = new RegistrySource(clientWith(credentials), ref("test/app:v1"));
    const root = await source.resolve();
    assert.equal(root.digest, image.manifest.descriptor.digest);
    assert.deepEqual(await source.fetchManifest(root), image.manifest.bytes);
    assert.deepEqual(await readAll(await source.openBlob(image.layer.descriptor)), image.layer.bytes);
    assert.deepEqual([...scopesAsked(registry.issuer.requests)], ["repository:test/app:pull"]);
  });

  test("a cross-repository mount asks for pull on the source repository", async () => {
    registry.issuer.clearRequests();
    const target = new RegistryTarget(clientWith(credentials), ref("test/mounted"));
    const result = await target.putBlob(
      image.layer.descriptor,
      () => Promise.reject(new Error("a mount must not read the blob")),
      { mountFrom: { registry: registry.host, repository: "test/app" } },
    );
    assert.equal(result, "mounted");
    const asked = scopesAsked(registry.issuer.requests);
    assert.ok(asked.has("repository:test/mounted:pull,push"), [...asked].join(" "));
    assert.ok(asked.has("repository:test/app:pull"), [...asked].join(" "));
    assert.ok(!asked.has("repository:test/app:pull,push"), "no push is asked on the mount source");
  });

  test("an identity token is exchanged through the OAuth2 refresh-token grant", async () => {
    registry.issuer.clearRequests();
    const provider = new StaticCredentialProvider([
      {
        registry: registry.host,
        credential: { identityToken: registry.issuer.refreshTokenFor(registry.username) },
      },
    ]);
    const source = new RegistrySource(clientWith(provider), ref("test/app:v1"));
    assert.equal((await source.resolve()).digest, image.manifest.descriptor.digest);
    const records = registry.issuer.requests;
    assert.ok(records.length > 0);
    assert.ok(
      records.every((r) => r.method === "POST" && r.grantType === "refresh_token" && r.status === 200),
    );
  });

  test("a wrong password is REGISTRY_UNAUTHORIZED and the password is not in the message", async () => {
    registry.issuer.clearRequests();
    const provider = new StaticCredentialProvider([
      {
        registry: registry.host,
        credential: { username: registry.username, password: "wrong-password-1234" },
      },
    ]);
    const target = new RegistryTarget(clientWith(provider), ref("test/app"));
    await assert.rejects(push(target, makeImage(), "never"), (error) => {
      assert.ok(error instanceof RegistryError, String(error));
      assert.equal(error.code, "REGISTRY_UNAUTHORIZED");
      assert.equal(error.status, 401);
      assert.deepEqual(error.registryCodes, ["UNAUTHORIZED"]);
      assert.ok(!error.message.includes("wrong-password-1234"));
      return true;
    });
    assert.ok(registry.issuer.requests.some((r) => r.credentialsSent && r.status === 401));
  });

  test("an anonymous pull is denied with the registry's own error code", async () => {
    registry.issuer.clearRequests();
    const client = clientWith(undefined);
    const location = { registry: registry.host, repository: "test/app" };
    await assert.rejects(client.getManifest(location, "v1"), (error) => {
      assert.ok(error instanceof RegistryError, String(error));
      assert.ok(isPolypackError(error, "REGISTRY_UNAUTHORIZED"), error.code);
      assert.equal(error.status, 401);
      assert.ok(error.registryCodes.includes("UNAUTHORIZED"), error.registryCodes.join(","));
      assert.ok(error.message.includes("test/app"), error.message);
      return true;
    });
    const records = registry.issuer.requests;
    assert.ok(records.length > 0 && records.every((r) => !r.credentialsSent && r.granted.length === 0));
    assert.ok(scopesAsked(records).has("repository:test/app:pull"));
  });

  test("pushing outside the user's repositories is refused", async () => {
    const target = new RegistryTarget(clientWith(credentials), ref("private/app"));
    await assert.rejects(push(target, makeImage(), "v1"), (error) => {
      assert.ok(error instanceof RegistryError, String(error));
      assert.ok(["REGISTRY_UNAUTHORIZED", "REGISTRY_DENIED"].includes(error.code), error.code);
      return true;
    });
  });

  test("skopeo reads the pushed image with the same credentials", async () => {
    const raw = await run("skopeo", [
      "inspect",
      "--raw",
      "--tls-verify=false",
      "--authfile",
      authFile,
      `docker://${registry.host}/test/app:v1`,
    ]);
    assert.equal(raw, image.manifest.bytes.toString("utf8"));
    const out = join(await tempDir(), "layout");
    await mkdir(out);
    await run("skopeo", [
      "copy",
      "--src-tls-verify=false",
      "--authfile",
      authFile,
      `docker://${registry.host}/test/app:v1`,
      `oci:${out}:v1`,
    ]);
    const layer = await readFile(
      join(out, "blobs", "sha256", image.layer.descriptor.digest.slice("sha256:".length)),
    );
    assert.deepEqual(layer, image.layer.bytes);
    await assert.rejects(
      run("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${registry.host}/test/app:v1`]),
      /unauthorized|denied/i,
    );
  });
});

describe("token auth with anonymous pull allowed", () => {
  let registry: TokenRegistryHandle;
  const clients: RegistryClient[] = [];

  before(async () => {
    registry = await startTokenRegistry({
      acl: [
        { subject: "*", repository: "test/*", actions: ["pull", "push"] },
        { subject: "anonymous", repository: "test/*", actions: ["pull"] },
      ],
    });
  });

  after(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await registry.stop();
  });

  test("anonymous clients pull, and only signed-in clients push", async () => {
    const image = makeImage();
    const signedIn = new RegistryClient({
      credentials: new StaticCredentialProvider([
        { registry: registry.host, credential: { username: registry.username, password: registry.password } },
      ]),
    });
    const anonymous = new RegistryClient();
    clients.push(signedIn, anonymous);
    await push(new RegistryTarget(signedIn, Reference.parse(`${registry.host}/test/open:v1`)), image, "v1");

    registry.issuer.clearRequests();
    const source = new RegistrySource(anonymous, Reference.parse(`${registry.host}/test/open:v1`));
    assert.equal((await source.resolve()).digest, image.manifest.descriptor.digest);
    assert.ok(registry.issuer.requests.every((r) => !r.credentialsSent));

    await assert.rejects(
      push(new RegistryTarget(anonymous, Reference.parse(`${registry.host}/test/open`)), makeImage(), "v2"),
      (error) => isPolypackError(error, "REGISTRY_UNAUTHORIZED") || isPolypackError(error, "REGISTRY_DENIED"),
    );
  });
});
