// How the command line ends on errors: the exit status and hint come from the error catalogue.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { CATALOGUE } from "../../src/errors/index.js";
import { polypack } from "../support/cli.js";
import { tempDir } from "../support/tmp.js";

test("flags that cannot work as written exit 2 (usage) with their code, in text and --json", async () => {
  const dir = await tempDir();
  const cases: [string[], string][] = [
    [
      ["buildpack", "package", "hello", "--path", dir, "--format", "tarball", "--output", "x"],
      "FORMAT_INVALID",
    ],
    [["buildpack", "package", "hello", "--path", dir, "--label", "no-equals-sign"], "LABEL_INVALID"],
    [["buildpack", "package", "hello", "--path", dir, "--output", "x.cnb", "--by-digest"], "FLAGS_CONFLICT"],
    [["copy", `oci:${join(dir, "src")}:x`, ""], "ENDPOINT_INVALID"],
    // A malformed --platform is a usage error like any bad flag value, on every command that takes it.
    [["verify", dir, "--platform", "linux-arm64"], "FLAG_INVALID"],
    [["sbom", dir, "--platform", "linux/arm64/v99/x"], "FLAG_INVALID"],
    [["manifest", "create", "idx", dir, "--platform", "amd64"], "FLAG_INVALID"],
    [
      ["buildpack", "package", "hello", "--path", dir, "--publish", "--by-digest", "--tag", "2"],
      "FLAGS_CONFLICT",
    ],
  ];
  for (const [args, code] of cases) {
    const text = await polypack(args);
    assert.equal(text.code, 2, `${args.join(" ")}: ${text.stderr}`);
    assert.match(text.stderr, new RegExp(`^error\\[${code}\\]: `, "m"), text.stderr);
    const json = await polypack(["--json", ...args]);
    assert.equal(json.code, 2, json.stderr);
    const parsed = JSON.parse(json.stdout) as { error: Record<string, unknown> };
    assert.deepEqual(Object.keys(parsed.error).sort(), ["code", "hint", "message"]);
    assert.equal(parsed.error["code"], code);
  }
  // The parser's own refusals have the same status.
  assert.equal((await polypack(["copy", "--no-such-flag", "a", "b"])).code, 2);
});

test("an error thrown without a hint shows the catalogue's hint for its code", async () => {
  const missing = join(await tempDir(), "nowhere");
  const result = await polypack(["manifest", "inspect", `oci:${missing}`]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, new RegExp(`^error\\[PATH_NOT_FOUND\\]: .*${missing}`, "m"), result.stderr);
  assert.ok(result.stderr.includes(`hint: ${CATALOGUE.PATH_NOT_FOUND.hint}\n`), result.stderr);
  assert.doesNotMatch(result.stderr, /bug in polypack|\n\s+at /);
});
