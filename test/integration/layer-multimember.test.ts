import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { before, test } from "node:test";
import { createGunzip } from "node:zlib";
import { collectDirectory } from "../../src/layer/collect.js";
import type { LayerEntry } from "../../src/layer/entry.js";
import { putLayer } from "../../src/layer/put-layer.js";
import { writeLayerFile, type WrittenLayer } from "../../src/layer/write-layer.js";
import { LayoutTarget } from "../../src/layout/layout-target.js";
import { descriptorFor } from "../../src/oci/descriptor.js";
import { buildImageManifest, encodeJSON } from "../../src/oci/manifest.js";
import { MediaType } from "../../src/oci/media-types.js";
import { pseudoRandomStream } from "../support/images.js";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";

const MiB = 1024 * 1024;
const PREFIX = "/cnb/buildpacks/x/1.0";

// With the default cut (4 MiB threshold, 8 MiB members) this folder makes several members: the
// scripts and notes together, each archive alone, and the 20 MiB archive cut in three.
const FILES: Record<string, number | string> = {
  "bin/build": "#!/bin/sh\necho build\n",
  "bin/detect": "#!/bin/sh\nexit 0\n",
  "buildpack.toml": 'api = "0.10"\n[buildpack]\nid = "x"\nversion = "1.0"\n',
  "deps/jdk.tar.gz": 20 * MiB + 4321,
  "deps/maven.tar.gz": 5 * MiB,
  "docs/notes.txt": "Deterministic layers, one gzip member at a time.\n".repeat(60_000),
};

let source: string;
let layerFile: string;
let layer: WrittenLayer;
let entries: LayerEntry[];

const sha256Hex = (data: Uint8Array): string => createHash("sha256").update(data).digest("hex");

before(async () => {
  source = await tempDir();
  for (const [name, content] of Object.entries(FILES)) {
    await mkdir(join(source, name, ".."), { recursive: true });
    const path = join(source, name);
    if (typeof content === "string") await writeFile(path, content, { mode: 0o755 });
    else await pipeline(pseudoRandomStream(name, content), createWriteStream(path));
  }
  entries = await collectDirectory(source, { prefix: PREFIX });
  layerFile = join(await tempDir(), "layer.tar.gz");
  layer = await writeLayerFile(entries, layerFile, { absoluteNames: true });
  assert.ok((layer.members?.members ?? 0) >= 5, `${layer.members?.members} members`);
});

test("GNU gzip checks every member; zcat and sha256sum agree with the diffID and the digest", async () => {
  await run("gzip", ["-t", layerFile]);
  const unzipped = await run("sh", ["-c", 'zcat "$1" | sha256sum', "sh", layerFile]);
  assert.equal(`sha256:${unzipped.split(" ")[0]}`, layer.diffID);
  assert.equal(`sha256:${(await run("sha256sum", [layerFile])).split(" ")[0]}`, layer.descriptor.digest);
});

test("GNU tar lists and extracts every entry, with the files' exact contents", async () => {
  const listing = (await run("tar", ["--numeric-owner", "-tzvf", layerFile])).trim().split("\n");
  assert.deepEqual(
    listing.map((line) => line.split(/\s+/).at(-1)),
    entries.map((entry) => `/${entry.path}`),
  );
  for (const line of listing) assert.match(line, /^[d-]rw[x-]r-[x-]r-[x-] 0\/0 .* 1980-01-01 00:00 \//);
  const out = await tempDir();
  await run("tar", ["-xzf", layerFile, "-C", out]);
  for (const name of Object.keys(FILES)) {
    const extracted = await readFile(join(out, PREFIX, name));
    assert.equal(sha256Hex(extracted), sha256Hex(await readFile(join(source, name))), name);
  }
});

test("Go's compress/gzip (pack, the lifecycle, containerd) reads the whole layer", async () => {
  const dir = await tempDir();
  await writeFile(
    join(dir, "main.go"),
    `package main

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
)

func main() {
	f, err := os.Open(os.Args[1])
	if err != nil {
		panic(err)
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		panic(err)
	}
	h := sha256.New()
	tee := io.TeeReader(zr, h)
	tr := tar.NewReader(tee)
	entries, bytes := 0, int64(0)
	for {
		header, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		entries++
		if header.Typeflag == tar.TypeReg {
			n, err := io.Copy(io.Discard, tr)
			if err != nil {
				panic(err)
			}
			bytes += n
		}
	}
	if _, err := io.Copy(io.Discard, tee); err != nil {
		panic(err)
	}
	fmt.Printf("sha256:%x %d %d\\n", h.Sum(nil), entries, bytes)
}
`,
  );
  const [diffID, count, bytes] = (await run("go", ["run", "main.go", layerFile], { cwd: dir }))
    .trim()
    .split(" ");
  assert.equal(diffID, layer.diffID);
  assert.equal(Number(count), entries.length);
  const fileBytes = Object.values(FILES).reduce<number>(
    (sum, content) => sum + (typeof content === "string" ? Buffer.byteLength(content) : content),
    0,
  );
  assert.equal(Number(bytes), fileBytes);
});

test("Node's gunzip stream reads through every member", async () => {
  const hash = createHash("sha256");
  await pipeline(createReadStream(layerFile), createGunzip(), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) hash.update(chunk);
  });
  assert.equal(`sha256:${hash.digest("hex")}`, layer.diffID);
});

test("umoci unpacks an image whose layer has many members", async () => {
  const dir = await tempDir();
  const target = await LayoutTarget.create(dir);
  const stored = await putLayer(target, entries, { absoluteNames: true, memberCache: await tempDir() });
  assert.equal(stored.descriptor.digest, layer.descriptor.digest, "the cache changes nothing");
  const config = encodeJSON({
    architecture: "amd64",
    os: "linux",
    config: {},
    rootfs: { type: "layers", diff_ids: [stored.diffID] },
  });
  const configDescriptor = descriptorFor(MediaType.ociConfig, config);
  await target.putBlob(configDescriptor, () => Promise.resolve(Readable.from([config])));
  const manifest = encodeJSON(buildImageManifest(configDescriptor, [stored.descriptor]));
  const manifestDescriptor = descriptorFor(MediaType.ociManifest, manifest);
  await target.putManifest(manifestDescriptor, manifest);
  await target.tag(manifestDescriptor, ["bp"]);

  const bundle = join(await tempDir(), "bundle");
  await run("umoci", ["unpack", "--rootless", "--image", `${dir}:bp`, bundle]);
  for (const name of Object.keys(FILES)) {
    const unpacked = await readFile(join(bundle, "rootfs", PREFIX, name));
    assert.equal(sha256Hex(unpacked), sha256Hex(await readFile(join(source, name))), name);
  }
});
