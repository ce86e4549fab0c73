/**
 * package.toml dependency uris as pack reads them: `.tgz` and `.tar` archives (of a buildpack
 * folder or of an OCI layout), bare image references, and `urn:cnb:registry:` locators resolved
 * through a registry index given with -r/--buildpack-registry.
 */
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createTestCertificates } from "../support/certificates.js";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { ImageIndex, ImageManifest } from "../../src/oci/manifest.js";
import { startRegistry, type RegistryHandle } from "../support/registry.js";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";
import { writeTree, script, buildpackToml, targetsToml } from "../unit/package/helpers.js";
import { polypack, polypackOk, readJSON } from "./buildpack-package-support.js";

/** The ids in the layers label of the (single-target) package in `layout`. */
async function packagedIds(layout: string): Promise<string[]> {
  const top = await readJSON<ImageIndex>(join(layout, "index.json"));
  const manifest = await readJSON<ImageManifest>(
    join(layout, "blobs/sha256", top.manifests[0]!.digest.slice(7)),
  );
  const config = await readJSON<{ config: { Labels: Record<string, string> } }>(
    join(layout, "blobs/sha256", manifest.config.digest.slice(7)),
  );
  return Object.keys(JSON.parse(config.config.Labels["io.buildpacks.buildpack.layers"]!) as object);
}

describe("package.toml dependency uris", () => {
  let registry: RegistryHandle;
  let work: string;

  before(async () => {
    registry = await startRegistry();
    work = await tempDir("polypack-uris-");
    await writeTree(
      {
        "buildpack.toml": buildpackToml(targetsToml("linux/amd64"), "example/a", "1.0.0"),
        "bin/build": script("echo a"),
        "bin/detect": script("echo a"),
      },
      join(work, "a"),
    );
    await writeTree(
      {
        "buildpack.toml": buildpackToml(
          '[[order]]\n  [[order.group]]\n    id = "example/a"\n    version = "1.0.0"\n',
          "example/composite",
          "2.0.0",
        ),
      },
      join(work, "composite"),
    );
  });
  after(async () => {
    await registry?.stop();
  });

  async function packageWith(uri: string, extra: string[] = []): Promise<string[]> {
    const config = join(work, `${uri.replace(/[^a-z0-9]/gi, "_")}.package.toml`);
    await writeFile(config, `[buildpack]\nuri = "composite"\n\n[[dependencies]]\nuri = "${uri}"\n`);
    const layout = join(await tempDir("polypack-uris-out-"), "out");
    await polypackOk([
      "--insecure-registry",
      registry.host,
      "buildpack",
      "package",
      "c",
      "--config",
      config,
      "--target",
      "linux/amd64",
      "--output",
      layout,
      ...extra,
    ]);
    return packagedIds(layout);
  }

  test("a .tgz of a buildpack folder and a .tar of an OCI layout are dependencies, and [buildpack] uri may be a .tgz, as in pack", async () => {
    await run("tar", ["-czf", join(work, "a.tgz"), "-C", join(work, "a"), "."]);
    assert.deepEqual(await packageWith("a.tgz"), ["example/a", "example/composite"]);
    const layout = join(work, "a-layout");
    await polypackOk([
      "buildpack",
      "package",
      "a",
      "--path",
      join(work, "a"),
      "--format",
      "layout",
      "--output",
      layout,
    ]);
    await run("tar", ["-cf", join(work, "a-layout.tar"), "-C", layout, "."]);
    assert.deepEqual(await packageWith("a-layout.tar"), ["example/a", "example/composite"]);

    // [buildpack] uri may name an archive of the buildpack's folder too.
    const config = join(work, "archive.package.toml");
    await writeFile(config, '[buildpack]\nuri = "a.tgz"\n');
    const out = join(await tempDir("polypack-uris-out-"), "out");
    await polypackOk(["buildpack", "package", "a", "--config", config, "--output", out]);
    assert.deepEqual(await packagedIds(out), ["example/a"]);
  });

  test("an http(s) uri is downloaded through polypack's HTTP stack: an archive, or a .cnb", async () => {
    const cnb = join(work, "a.cnb");
    await polypackOk([
      "buildpack",
      "package",
      "a",
      "--path",
      join(work, "a"),
      "--format",
      "file",
      "--output",
      cnb,
    ]);
    const files: Record<string, Buffer> = {
      "/a.tgz": await readFile(join(work, "a.tgz")),
      "/a.cnb": await readFile(cnb),
    };
    const server = createServer((request, response) => {
      const body = files[request.url ?? ""];
      response.writeHead(body ? 200 : 404).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      assert.deepEqual(await packageWith(`${base}/a.tgz`), ["example/a", "example/composite"]);
      assert.deepEqual(await packageWith(`${base}/a.cnb`), ["example/a", "example/composite"]);
      const config = join(work, "missing.package.toml");
      await writeFile(
        config,
        `[buildpack]\nuri = "composite"\n\n[[dependencies]]\nuri = "${base}/gone.tgz"\n`,
      );
      const refused = await polypack([
        "buildpack",
        "package",
        "c",
        "--config",
        config,
        "--target",
        "linux/amd64",
        "--output",
        join(work, "never"),
      ]);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(
        refused.stderr,
        /error\[DEPENDENCY_DOWNLOAD_FAILED\]: .*cannot download http:\/\/127\.0\.0\.1:\d+\/gone\.tgz: .*404/,
      );
    } finally {
      server.close();
    }
  });

  test("a bare image reference and a urn:cnb:registry: locator resolved through -r name a registry image", async () => {
    const image = `${registry.host}/example/a:1.0.0`;
    await polypackOk([
      "--insecure-registry",
      registry.host,
      "buildpack",
      "package",
      image,
      "--path",
      join(work, "a"),
      "--publish",
    ]);
    assert.deepEqual(await packageWith(image), ["example/a", "example/composite"]);

    const index = join(work, "index");
    await mkdir(join(index, "1"), { recursive: true });
    await writeFile(
      join(index, "1", "example_a"),
      `${JSON.stringify({ ns: "example", name: "a", version: "0.9.0", yanked: false, addr: "nowhere/x:0" })}\n` +
        `${JSON.stringify({ ns: "example", name: "a", version: "1.0.0", yanked: false, addr: image })}\n`,
    );
    assert.deepEqual(await packageWith("urn:cnb:registry:example/a@1.0.0", ["-r", index]), [
      "example/a",
      "example/composite",
    ]);
    assert.deepEqual(await packageWith("urn:cnb:registry:example/a", ["--buildpack-registry", index]), [
      "example/a",
      "example/composite",
    ]);
    const config = join(work, "urn-without-index.package.toml");
    await writeFile(
      config,
      `[buildpack]\nuri = "composite"\n\n[[dependencies]]\nuri = "urn:cnb:registry:example/a@1.0.0"\n`,
    );
    const refused = await polypack([
      "buildpack",
      "package",
      "c",
      "--config",
      config,
      "--target",
      "linux/amd64",
      "--output",
      join(work, "never"),
    ]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(
      refused.stderr,
      /error\[BUILDPACK_REGISTRY_LOOKUP_FAILED\]: .*urn:cnb:registry:example\/a@1\.0\.0: no buildpack registry was given/,
    );
  });

  test("-r given an https index uses --ca-file, as every other download does", async () => {
    const image = `${registry.host}/example/a:1.0.0`;
    await polypackOk([
      "--insecure-registry",
      registry.host,
      "buildpack",
      "package",
      image,
      "--path",
      join(work, "a"),
      "--publish",
    ]);
    const certificates = await createTestCertificates(await tempDir("polypack-uris-tls-"));
    const line = JSON.stringify({ ns: "example", name: "a", version: "1.0.0", yanked: false, addr: image });
    const server = createHttpsServer(
      { key: await readFile(certificates.key), cert: await readFile(certificates.certificate) },
      (request, response) => {
        if (request.url === "/index/1/example_a") response.end(`${line}\n`);
        else response.writeHead(404).end();
      },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const index = `https://127.0.0.1:${(server.address() as AddressInfo).port}/index`;
      assert.deepEqual(
        await packageWith("urn:cnb:registry:example/a@1.0.0", ["--ca-file", certificates.ca, "-r", index]),
        ["example/a", "example/composite"],
      );
      const config = join(work, "urn-https.package.toml");
      await writeFile(
        config,
        `[buildpack]\nuri = "composite"\n\n[[dependencies]]\nuri = "urn:cnb:registry:example/a@1.0.0"\n`,
      );
      const untrusted = await polypack([
        "buildpack",
        "package",
        "c",
        "--config",
        config,
        "-r",
        index,
        "--output",
        join(work, "never"),
      ]);
      assert.equal(untrusted.code, 1, untrusted.stderr);
      assert.match(untrusted.stderr, /error\[BUILDPACK_REGISTRY_LOOKUP_FAILED\]: .*certificate/i);
    } finally {
      server.close();
    }
  });
});
