/**
 * A new user's first minutes: mistyped flags and commands, help, the global output flags, and
 * `dependency resolve` without flags it can default.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { polypack } from "../support/cli.js";
import { tempDir } from "../support/tmp.js";

test("a mistyped flag prints the suggestion and one line pointing at --help, not the whole help", async () => {
  const outcome = await polypack(["buildpack", "package", "x", "--outptu", "y.cnb"]);
  assert.equal(outcome.code, 2);
  assert.equal(
    outcome.stderr,
    "error[COMMAND_LINE_INVALID]: unknown option '--outptu'\n(Did you mean --output?)\n" +
      "(run `polypack buildpack package --help` for usage and examples)\n",
  );
  const command = await polypack(["buildpak", "package"]);
  assert.equal(command.code, 2);
  assert.match(command.stderr, /Did you mean buildpack\?/);
  assert.ok(command.stderr.split("\n").length <= 4, command.stderr);
});

test("polypack help buildpack package shows the package help; an unknown word is a usage error", async () => {
  const outcome = await polypack(["help", "buildpack", "package"]);
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.match(outcome.stdout, /^Usage: polypack buildpack package \[options\] <name>/);
  assert.match(outcome.stdout, /--per-target-files/);
  assert.match(outcome.stdout, /\nExamples:\n/);
  const bad = await polypack(["help", "buildpack", "pakage"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /polypack buildpack has no command 'pakage' \(it has: package, new\)/);
});

test("global -q, --timestamps, --force-color, --no-color shape what goes to stderr", async () => {
  const dir = await tempDir();
  const missing = ["buildpack", "package", "x", "--path", join(dir, "nowhere"), "--format", "file"];
  const colored = await polypack(["--force-color", ...missing]);
  assert.equal(colored.code, 1);
  assert.ok(colored.stderr.startsWith("\x1b[31merror[PATH_NOT_FOUND]:\x1b[0m "), colored.stderr);
  const plain = await polypack(["--no-color", ...missing]);
  assert.ok(plain.stderr.startsWith("error[PATH_NOT_FOUND]: "), plain.stderr);
  const stamped = await polypack(["--timestamps", ...missing]);
  for (const line of stamped.stderr.trimEnd().split("\n")) {
    assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (error|hint)/);
  }
  const both = await polypack(["--no-color", "--force-color", ...missing]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /^error\[FLAGS_CONFLICT\]: --no-color and --force-color/);

  ok(await polypack(["buildpack", "new", "q/bp", "--path", join(dir, "bp"), "--targets", "linux/amd64"]));
  const quiet = ok(
    await polypack([
      "-q",
      "buildpack",
      "package",
      join(dir, "q.cnb"),
      "--path",
      join(dir, "bp"),
      "--format",
      "file",
    ]),
  );
  assert.equal(quiet.stderr, "", "no progress and no notes with -q");
  assert.match(quiet.stdout, /^TARGET/);
  const verbose = ok(
    await polypack([
      "-v",
      "buildpack",
      "package",
      join(dir, "v.cnb"),
      "--path",
      join(dir, "bp"),
      "--format",
      "file",
    ]),
  );
  assert.match(verbose.stderr, /^packaging into file .*v\.cnb$/m);
  assert.match(verbose.stderr, /^built linux\/amd64: 1 layer, 0 dependencies$/m);
});

test("dependency resolve reads ./buildpack.toml by default; an unknown --id lists the ids there are", async () => {
  const dir = await tempDir();
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, "buildpack.toml"),
    [
      'api = "0.10"',
      "[buildpack]",
      'id = "x/y"',
      'version = "1.0.0"',
      ...["node", "yarn"].flatMap((id) => [
        "[[metadata.dependencies]]",
        `id = "${id}"`,
        'version = "1.2.3"',
        'uri = "https://example.invalid/a.tgz"',
        'os = "linux"',
        'arch = "amd64"',
      ]),
    ].join("\n"),
  );
  const env = { CNB_TARGET_OS: "linux", CNB_TARGET_ARCH: "amd64" };
  const found = ok(await polypack(["--json", "dependency", "resolve", "--id", "yarn"], { cwd: dir, env }));
  assert.equal((JSON.parse(found.stdout) as { id: string; version: string }).version, "1.2.3");
  const byFolder = ok(
    await polypack(["--json", "dependency", "resolve", "--buildpack", dir, "--id", "node"], { env }),
  );
  assert.equal((JSON.parse(byFolder.stdout) as { id: string }).id, "node");
  const unknown = await polypack(["dependency", "resolve", "--id", "nodejs"], { cwd: dir, env });
  assert.equal(unknown.code, 1, unknown.stderr);
  assert.match(
    unknown.stderr,
    /^error\[DEPENDENCY_NOT_FOUND\]: buildpack\.toml has no dependency with id "nodejs"; its dependency ids are: node, yarn$/m,
  );
  // The hint names the id a typo most likely meant, not merely the first one.
  const typo = await polypack(["dependency", "resolve", "--id", "yarm"], { cwd: dir, env });
  assert.equal(typo.code, 1, typo.stderr);
  assert.match(typo.stderr, /^hint: give one of them with --id, for example --id yarn$/m);
});

function ok(outcome: Awaited<ReturnType<typeof polypack>>): Awaited<ReturnType<typeof polypack>> {
  assert.equal(outcome.code, 0, outcome.stderr);
  return outcome;
}

test("--json gets one JSON document for the parser's own refusals too, and with --version", async () => {
  const typo = await polypack(["--json", "buildpack", "package", "x", "--outptu", "y.cnb"]);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /^error\[COMMAND_LINE_INVALID\]: unknown option '--outptu'/);
  const document = JSON.parse(typo.stdout) as { error: { code: string; message: string } };
  assert.equal(document.error.code, "COMMAND_LINE_INVALID");
  assert.match(document.error.message, /^unknown option '--outptu'\n\(Did you mean --output\?\)/);
  const missing = await polypack(["buildpack", "package", "--json"]);
  assert.equal(missing.code, 2);
  assert.equal(
    (JSON.parse(missing.stdout) as { error: { code: string } }).error.code,
    "COMMAND_LINE_INVALID",
  );
  const version = await polypack(["--json", "--version"]);
  assert.equal(version.code, 0, version.stderr);
  assert.match((JSON.parse(version.stdout) as { version: string }).version, /^\d+\.\d+\.\d+/);
  const quiet = await polypack(["-q", "-V"]);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.match(quiet.stdout, /^\d+\.\d+\.\d+\n$/);
});

test("a repeatable flag's help shows no (default: [])", async () => {
  for (const words of [[], ["buildpack", "package"], ["buildpack", "new"], ["test"]]) {
    const help = await polypack([...words, "--help"]);
    assert.equal(help.code, 0, help.stderr);
    assert.doesNotMatch(help.stdout, /default:\s+\[\]/, words.join(" "));
  }
});
