/**
 * `polypack verify` of a builder reads its run images (and mirrors) where they are published and
 * finds the platform one lacks, and a mirror it cannot reach; `--no-run-images` skips that, noted.
 * The builder is made with the image model (labels, a lifecycle per platform) and pushed to a real
 * registry beside its run images.
 */
import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { newIndex } from "../../src/image/index-edit.js";
import { emptyImage, mutateImage } from "../../src/image/mutate.js";
import { LayerSpool } from "../../src/image/spool.js";
import { write } from "../../src/image/write.js";
import { RegistryClient } from "../../src/registry/client.js";
import { Reference } from "../../src/registry/reference.js";
import { RegistryTarget } from "../../src/registry/target.js";
import { polypack } from "../support/cli.js";
import { goProgram } from "../support/go-programs.js";
import { writeRandomImage, writeRandomIndex } from "../support/images.js";
import { startRegistry, type RegistryHandle } from "../support/registry.js";
import { tempDir } from "../support/tmp.js";

interface Report {
  ok: boolean;
  findings: { platform: string; check: string; subject: string; expected: string; found: string }[];
  notes: string[];
}

describe("verify: a builder's run images have each platform", () => {
  let registry: RegistryHandle;
  let client: RegistryClient;
  const builderFor = async (run: string, mirrors: string[]): Promise<string> => {
    const spool = await LayerSpool.create(`${await tempDir("polypack-verify-run-")}/layers`);
    const images = [];
    for (const arch of ["amd64", "arm64"] as const) {
      const program = await goProgram(arch);
      const { size } = await stat(program);
      const layer = await spool.write([
        {
          path: "cnb/lifecycle/lifecycle",
          type: "file",
          mode: 0o755,
          size,
          open: () => createReadStream(program),
        },
      ]);
      const metadata = { stack: { runImage: { image: run, mirrors } }, images: [{ image: run, mirrors }] };
      images.push({
        artifact: mutateImage(emptyImage({ os: "linux", architecture: arch }), {
          add: [{ layer }],
          labels: { "io.buildpacks.builder.metadata": JSON.stringify(metadata) },
        }),
        platform: { os: "linux", architecture: arch },
      });
    }
    const name = `builders/${run.split("/").pop()!.replace(/\W/g, "-")}`;
    const target = new RegistryTarget(client, Reference.parse(`${registry.host}/${name}`));
    await write(newIndex(images), target, { tags: ["1"] });
    await spool.remove();
    return `${registry.host}/${name}:1`;
  };

  before(async () => {
    registry = await startRegistry();
    client = new RegistryClient();
    const target = (repo: string): RegistryTarget =>
      new RegistryTarget(client, Reference.parse(`${registry.host}/${repo}`));
    await writeRandomIndex(target("stack/run"), { platforms: ["linux/amd64", "linux/arm64"], tag: "1" });
    await writeRandomImage(target("stack/run-amd64"), { platform: "linux/amd64", tag: "1" });
  });
  after(async () => {
    await client?.close();
    await registry?.stop();
  });

  it("passes run images that have both platforms", async () => {
    const builder = await builderFor(`${registry.host}/stack/run:1`, [`${registry.host}/stack/run:1`]);
    const outcome = await polypack(["verify", builder, "--json"]);
    assert.equal(outcome.code, 0, outcome.stdout + outcome.stderr);
    const report = JSON.parse(outcome.stdout) as Report;
    assert.deepEqual(report.findings, []);
    assert.ok(!report.notes.some((n) => /run images/.test(n)), report.notes.join("\n"));
  });

  it("finds a run image without arm64 and a mirror it cannot reach; --no-run-images notes the skip", async () => {
    // A port nothing listens on: the mirror cannot be read.
    const unreachable = "127.0.0.1:9/stack/run:1";
    const builder = await builderFor(`${registry.host}/stack/run-amd64:1`, [unreachable]);
    const outcome = await polypack(["verify", builder, "--json"]);
    assert.equal(outcome.code, 1, outcome.stdout + outcome.stderr);
    const report = JSON.parse(outcome.stdout) as Report;
    const lines = report.findings.map(
      (f) => `${f.platform} ${f.subject}: expected ${f.expected}, found ${f.found}`,
    );
    assert.ok(
      lines.includes(
        `linux/arm64 run image ${registry.host}/stack/run-amd64:1: expected a run image for linux/arm64, found only linux/amd64`,
      ),
      lines.join("\n"),
    );
    assert.ok(
      lines.some((l) =>
        l.startsWith(
          `linux/amd64 run image ${unreachable}: expected a run image for linux/amd64, found could not be read`,
        ),
      ),
      lines.join("\n"),
    );
    assert.equal(lines.length, 3, lines.join("\n")); // arm64's run image; the mirror for both
    const skipped = await polypack(["verify", builder, "--no-run-images", "--json"]);
    assert.equal(skipped.code, 0, skipped.stdout + skipped.stderr);
    assert.ok((JSON.parse(skipped.stdout) as Report).notes.some((n) => /run images were not read/.test(n)));
  });
});
