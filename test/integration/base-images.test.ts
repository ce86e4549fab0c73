import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { write } from "../../src/image/write.js";
import { LayoutTarget } from "../../src/layout/layout-target.js";
import { baseIndex, lifecycleEntries, TEST_ARCHES } from "../support/base-images.js";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";

// The tests' own base images and lifecycle stand-ins are what builders, stacks and emulated tests
// stand on: check them with independent tools once, here.
describe("test base images", () => {
  it("are real per-architecture root filesystems that umoci unpacks and proot + qemu runs", async () => {
    const dir = await tempDir();
    const layout = join(dir, "layout");
    const index = await baseIndex(TEST_ARCHES, { cnbUser: { uid: 1000, gid: 1000 } });
    const entries = await index.entries();
    for (const [i, arch] of TEST_ARCHES.entries()) {
      await write(await entries[i]!.load(), await LayoutTarget.create(layout), { tags: [arch] });
      const bundle = join(dir, `bundle-${arch}`);
      await run("umoci", ["unpack", "--image", `${layout}:${arch}`, bundle]);
      const rootfs = join(bundle, "rootfs");
      const described = await run("file", ["-b", join(rootfs, "bin/busybox")]);
      assert.match(described, arch === "amd64" ? /x86-64/ : /aarch64/);
      assert.match(await readFile(join(rootfs, "etc/passwd"), "utf8"), /^cnb:x:1000:1000:/m);
      const uname = await run("proot", [
        ...(arch === "arm64" ? ["-q", "qemu-aarch64-static"] : []),
        "-r",
        rootfs,
        "/bin/uname",
        "-m",
      ]);
      assert.equal(uname.trim(), arch === "amd64" ? "x86_64" : "aarch64");
    }
  });

  it("lifecycle stand-ins are static programs for their architecture", async () => {
    for (const arch of TEST_ARCHES) {
      const entries = await lifecycleEntries(arch, "0.20.0");
      const detector = entries.find((entry) => entry.path === "lifecycle/lifecycle");
      assert.ok(detector?.type === "file" && detector.content !== undefined);
      const dir = await tempDir();
      const path = join(dir, "detector");
      const { writeFile } = await import("node:fs/promises");
      await writeFile(path, detector.content);
      const described = await run("file", ["-b", path]);
      assert.match(described, arch === "amd64" ? /x86-64.*statically linked/ : /aarch64.*statically linked/);
    }
  });
});
