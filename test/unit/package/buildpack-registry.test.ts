/**
 * Resolving `urn:cnb:registry:` through a registry-index clone: the highest version not yanked, and
 * a damaged index file is a lookup failure naming the file and line, not a crash.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { isPolypackError } from "../../../src/errors/index.js";
import { resolveRegistryUrn } from "../../../src/package/buildpack-registry.js";
import { tempDir } from "../../support/tmp.js";

async function indexWith(lines: string): Promise<string> {
  const index = await tempDir("polypack-index-");
  await mkdir(join(index, "ex", "am"), { recursive: true });
  await writeFile(join(index, "ex", "am", "acme_example"), lines);
  return index;
}

describe("resolveRegistryUrn", () => {
  test("takes the highest version that is not yanked when the urn names none", async () => {
    const line = (version: string, yanked: boolean): string =>
      `${JSON.stringify({ ns: "acme", name: "example", version, yanked, addr: `r/x:${version}` })}\n`;
    const index = await indexWith(line("1.0.0", false) + line("1.2.0", false) + line("2.0.0", true));
    assert.equal(await resolveRegistryUrn("urn:cnb:registry:acme/example", index, "p.toml"), "r/x:1.2.0");
  });

  test("a line that is not JSON is BUILDPACK_REGISTRY_LOOKUP_FAILED naming the file and line", async () => {
    const index = await indexWith(
      '{"ns":"acme","name":"example","version":"1.0.0","addr":"r/x:1"}\n{"ns":\n',
    );
    await assert.rejects(
      resolveRegistryUrn("urn:cnb:registry:acme/example@1.0.0", index, "p.toml"),
      (error) =>
        isPolypackError(error, "BUILDPACK_REGISTRY_LOOKUP_FAILED") &&
        /line 2 of ex\/am\/acme_example/.test(error.message),
    );
  });
});
