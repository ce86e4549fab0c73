import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse } from "smol-toml";
import { isPolypackError, type ErrorCode } from "../../../src/errors/index.js";
import { packageBuildpack, type PackageOptions } from "../../../src/package/package.js";
import type { PackagePlan, TargetPlan } from "../../../src/package/plan.js";
import { buildpackToml, script, targetsToml, writeTree, type TreeFile } from "./helpers.js";

const BIN = (arch: string): Record<string, TreeFile> => ({
  [`linux/${arch}/bin/build`]: script(`echo build ${arch}`),
  [`linux/${arch}/bin/detect`]: script(`echo detect ${arch}`),
});

async function plan(
  files: Record<string, TreeFile>,
  options: Partial<PackageOptions> = {},
): Promise<PackagePlan> {
  const dir = await writeTree(files);
  return (await packageBuildpack({ path: dir, dryRun: true, ...options })).plan;
}

function target(result: PackagePlan, key: string): TargetPlan {
  const found = result.targets.find((t) => t.key === key);
  assert.ok(found, `plan has target ${key}; it has ${result.targets.map((t) => t.key).join(", ")}`);
  return found;
}

/** `path <- source` for files copied from disk, `path` for the rest. */
function layout(t: TargetPlan): string[] {
  return t.files.map((f) => (f.type === "file" && "source" in f ? `${f.path} <- ${f.source}` : f.path));
}

function rejects(code: ErrorCode, check?: (message: string) => void) {
  return (error: unknown): boolean => {
    assert.ok(isPolypackError(error, code), `expected ${code}, got ${String(error)}`);
    check?.(error.message);
    return true;
  };
}

describe("per-target folders", () => {
  test("each target takes only its own os/arch folder, as pack does: no shared or other targets' files", async () => {
    const result = await plan({
      "buildpack.toml": buildpackToml(targetsToml("linux/amd64", "linux/arm64")),
      "README.md": "hello",
      "lib/common.sh": "shared",
      ...BIN("amd64"),
      ...BIN("arm64"),
      "linux/riscv64/bin/build": script("stray"),
    });
    assert.equal(result.targetOrigin, "buildpack.toml");
    for (const arch of ["amd64", "arm64"]) {
      const t = target(result, `linux/${arch}`);
      assert.equal(t.sourceFolder, `linux/${arch}`);
      assert.deepEqual(layout(t), [
        "bin",
        `bin/build <- linux/${arch}/bin/build`,
        `bin/detect <- linux/${arch}/bin/detect`,
        "buildpack.toml",
      ]);
      assert.deepEqual(t.platform, { architecture: arch, os: "linux" });
    }
  });

  test("a target without its own folder uses the root's files; one with a folder only the folder's", async () => {
    const result = await plan({
      "buildpack.toml": buildpackToml(targetsToml("linux/amd64", "linux/arm64")),
      "bin/build": script("shared build"),
      "bin/detect": script("shared detect"),
      "linux/arm64/bin/build": script("arm64 build"),
      "linux/arm64/bin/detect": script("arm64 detect"),
    });
    assert.deepEqual(layout(target(result, "linux/amd64")).slice(0, 3), [
      "bin",
      "bin/build <- bin/build",
      "bin/detect <- bin/detect",
    ]);
    assert.deepEqual(layout(target(result, "linux/arm64")).slice(0, 3), [
      "bin",
      "bin/build <- linux/arm64/bin/build",
      "bin/detect <- linux/arm64/bin/detect",
    ]);
  });

  test("pack's folder walk: the OS folder when os/arch is absent, variant folders as written, linux/arm as linux/arm", async () => {
    const result = await plan({
      "buildpack.toml": buildpackToml(
        targetsToml("linux/amd64", "linux/arm64/v8", "linux/arm", "windows/amd64"),
      ),
      "linux/buildpack.toml": "not copied: the root buildpack.toml is used",
      "linux/bin/build": script("linux build"),
      "linux/bin/detect": script("linux detect"),
      "linux/arm64/v8/bin/build": script("v8 build"),
      "linux/arm64/v8/bin/detect": script("v8 detect"),
      "linux/arm/bin/build": script("arm build"),
      "linux/arm/bin/detect": script("arm detect"),
      "linux/arm/v7/bin/build": script("v7: not walked into for linux/arm"),
      "windows/bin/build.bat": "windows",
      "bin/build": script("root build"),
      "bin/detect": script("root detect"),
    });
    const folders = Object.fromEntries(result.targets.map((t) => [t.key, t.sourceFolder]));
    assert.equal(folders["linux/amd64"], "linux");
    assert.equal(folders["linux/arm64"], "linux/arm64/v8");
    assert.equal(folders["windows/amd64"], "windows");
    const arm = result.targets.find((t) => t.platform.architecture === "arm")!;
    assert.equal(arm.sourceFolder, "linux/arm");
    // linux/ serves linux/amd64, without the folders of the other linux targets inside it.
    assert.deepEqual(layout(target(result, "linux/amd64")), [
      "bin",
      "bin/build <- linux/bin/build",
      "bin/detect <- linux/bin/detect",
      "buildpack.toml",
    ]);
  });

  test("a single-target buildpack may keep bin/ at the root; pack's linux/amd64 is the default", async () => {
    const result = await plan({
      "buildpack.toml": buildpackToml('[[stacks]]\n  id = "*"\n'),
      "bin/build": script("build"),
      "bin/detect": script("detect"),
    });
    assert.equal(result.targetOrigin, "stacks");
    assert.deepEqual(
      result.targets.map((t) => t.key),
      ["linux/amd64"],
    );
    assert.match(result.warnings.join("\n"), /names no architecture; packaging it for linux\/amd64/);
    assert.deepEqual(layout(result.targets[0]!), [
      "bin",
      "bin/build <- bin/build",
      "bin/detect <- bin/detect",
      "buildpack.toml",
    ]);
  });

  test("shell scripts at the root serve every target", async () => {
    const result = await plan({
      "buildpack.toml": buildpackToml(targetsToml("linux/amd64", "linux/arm64", "linux/ppc64le")),
      "bin/build": script("build"),
      "bin/detect": script("detect"),
    });
    assert.equal(result.targets.length, 3);
    for (const t of result.targets)
      assert.deepEqual(layout(t).slice(1, 3), ["bin/build <- bin/build", "bin/detect <- bin/detect"]);
  });

  test("variants and distros: the deepest existing folder, never a sibling variant's", async () => {
    const result = await plan(
      {
        "buildpack.toml": buildpackToml(
          `${targetsToml("linux/arm/v6", "linux/arm/v7")}\n[[targets]]\n  os = "linux"\n  arch = "amd64"\n` +
            `  [[targets.distros]]\n    name = "ubuntu"\n    version = "22.04"\n  [[targets.distros]]\n    name = "ubuntu"\n    version = "24.04"\n`,
        ),
        "linux/arm/bin/build": script("arm"),
        "linux/arm/bin/detect": script("arm"),
        "linux/arm/v6/bin/build": script("v6"),
        "linux/arm/v6/bin/detect": script("v6"),
        "linux/amd64/bin/build": script("amd64"),
        "linux/amd64/bin/detect": script("amd64"),
        "linux/amd64/ubuntu@24.04/bin/build": script("noble"),
        "linux/amd64/ubuntu@24.04/bin/detect": script("noble"),
      },
      {},
    );
    assert.deepEqual(
      result.targets.map((t) => t.key),
      ["linux/arm/v6", "linux/arm/v7", "linux/amd64 (ubuntu@22.04)", "linux/amd64 (ubuntu@24.04)"],
    );
    assert.deepEqual(layout(target(result, "linux/arm/v6")).slice(1, 3), [
      "bin/build <- linux/arm/v6/bin/build",
      "bin/detect <- linux/arm/v6/bin/detect",
    ]);
    const v7 = target(result, "linux/arm/v7");
    assert.equal(v7.sourceFolder, "linux/arm");
    assert.deepEqual(layout(v7), [
      "bin",
      "bin/build <- linux/arm/bin/build",
      "bin/detect <- linux/arm/bin/detect",
      "buildpack.toml",
    ]);
    assert.deepEqual(v7.platform, { architecture: "arm", os: "linux", variant: "v7" });
    const jammy = target(result, "linux/amd64 (ubuntu@22.04)");
    assert.equal(jammy.sourceFolder, "linux/amd64");
    assert.deepEqual(jammy.platform, { architecture: "amd64", os: "linux", "os.version": "22.04" });
    assert.ok(!layout(jammy).some((p) => p.includes("ubuntu@")), layout(jammy).join("\n"));
    const noble = target(result, "linux/amd64 (ubuntu@24.04)");
    assert.equal(noble.sourceFolder, "linux/amd64/ubuntu@24.04");
    // Like pack, the deepest folder is used alone: it does not inherit from linux/amd64.
    assert.deepEqual(layout(noble).slice(1, 3), [
      "bin/build <- linux/amd64/ubuntu@24.04/bin/build",
      "bin/detect <- linux/amd64/ubuntu@24.04/bin/detect",
    ]);
  });

  test("symlinked executables count when they resolve inside the layer", async () => {
    const result = await plan({
      "buildpack.toml": buildpackToml(targetsToml("linux/arm64")),
      "linux/arm64/bin/run": script("run"),
      "linux/arm64/bin/build": { symlink: "run" },
      "linux/arm64/bin/detect": { symlink: "run" },
    });
    assert.deepEqual(
      target(result, "linux/arm64").files.filter((f) => f.type === "symlink"),
      [
        { path: "bin/build", type: "symlink", linkname: "run" },
        { path: "bin/detect", type: "symlink", linkname: "run" },
      ],
    );
    await assert.rejects(
      plan({
        "buildpack.toml": buildpackToml(targetsToml("linux/arm64")),
        "linux/arm64/bin/build": script("b"),
        "linux/arm64/bin/detect": { symlink: "missing" },
      }),
      rejects("BUILDPACK_TARGET_BINARIES_MISSING"),
    );
  });
});

describe("missing executables", () => {
  test("a declared target without bin/build and bin/detect is an error naming the target and the paths looked at", async () => {
    await assert.rejects(
      plan({ "buildpack.toml": buildpackToml(targetsToml("linux/amd64", "linux/arm64")), ...BIN("amd64") }),
      rejects("BUILDPACK_TARGET_BINARIES_MISSING", (message) => {
        assert.match(message, /target linux\/arm64/);
        assert.match(message, /linux\/arm64\/bin\/build, linux\/bin\/build, bin\/build/);
        assert.match(message, /linux\/arm64\/bin\/detect, linux\/bin\/detect, bin\/detect/);
        assert.doesNotMatch(message, /amd64/);
      }),
    );
  });

  test("a dry run of a buildpack whose pre-package builds them lists them as warnings instead", async () => {
    const result = await plan({
      "buildpack.toml": buildpackToml(
        `[metadata]\n  pre-package = "./build.sh"\n\n${targetsToml("linux/arm64")}`,
      ),
      "build.sh": script("exit 1"),
    });
    assert.match(result.warnings.join("\n"), /target linux\/arm64 has no bin\/build or bin\/detect/);
    assert.equal(result.prePackage, "./build.sh");
  });

  test("composite buildpacks need no executables", async () => {
    const result = await plan(
      {
        "buildpack.toml": buildpackToml(
          '[[order]]\n  [[order.group]]\n    id = "a/b"\n    version = "1.0.0"\n',
          "example/composite",
        ),
        "README.md": "composite",
      },
      { targets: ["linux/arm64"] },
    );
    assert.equal(result.composite, true);
    assert.deepEqual(layout(result.targets[0]!), ["README.md <- README.md", "buildpack.toml"]);
  });
});

describe("include-files", () => {
  const files = {
    "buildpack.toml": buildpackToml(
      `[metadata]\n  include-files = ["buildpack.toml", "README.md", "linux/amd64/bin/build", "linux/amd64/bin/detect", "linux/arm64/bin/build", "linux/arm64/bin/detect"]\n\n${targetsToml("linux/amd64", "linux/arm64")}`,
    ),
    "README.md": "readme",
    "NOTES.md": "not listed",
    "scripts/build.sh": script("not listed"),
    ...BIN("amd64"),
    ...BIN("arm64"),
  };

  test("only listed files go in; listed files of targets not packaged may be absent", async () => {
    const result = await plan(files, { targets: ["linux/amd64"] });
    // README.md lies outside linux/amd64/, but include-files names it, so every target gets it.
    assert.deepEqual(layout(target(result, "linux/amd64")), [
      "README.md <- README.md",
      "bin",
      "bin/build <- linux/amd64/bin/build",
      "bin/detect <- linux/amd64/bin/detect",
      "buildpack.toml",
    ]);
    const amd64Only = Object.fromEntries(
      Object.entries(files).filter(([path]) => !path.startsWith("linux/arm64/")),
    );
    const alone = await plan(amd64Only, { targets: ["linux/amd64"] });
    assert.equal(alone.targets.length, 1);
  });

  test("a listed file that is missing for a packaged target is an error", async () => {
    const { "README.md": _readme, ...withoutReadme } = files;
    await assert.rejects(
      plan(withoutReadme),
      rejects("BUILDPACK_INCLUDE_FILE_MISSING", (m) => assert.match(m, /"README.md"/)),
    );
  });

  test("executables left out by include-files are reported as such", async () => {
    const result = plan({
      "buildpack.toml": buildpackToml(
        `[metadata]\n  include-files = ["buildpack.toml"]\n\n${targetsToml("linux/amd64")}`,
      ),
      ...BIN("amd64"),
    });
    await assert.rejects(
      result,
      rejects("BUILDPACK_TARGET_BINARIES_MISSING", (m) => assert.match(m, /left out by include-files/)),
    );
  });
});

describe("dependencies per target", () => {
  const dependencies = `
[[metadata.dependencies]]
  id = "runtime"
  version = "1.0.0"
  arch = "amd64"
  os = "linux"
  uri = "https://example.com/runtime-amd64.tgz"
  checksum = "sha256:${"a".repeat(64)}"

[[metadata.dependencies]]
  id = "runtime"
  version = "1.0.0"
  arch = "arm64"
  os = "linux"
  uri = "https://example.com/runtime-arm64.tgz"
  checksum = "sha256:${"b".repeat(64)}"

[[metadata.dependencies]]
  id = "docs"
  version = "2.0.0"
  uri = "https://example.com/docs.tgz"
  checksum = "sha256:${"c".repeat(64)}"

[[metadata.dependencies]]
  id = "amd64-only-tool"
  version = "3.0.0"
  arch = "amd64"
  uri = "https://example.com/tool.tgz"
  checksum = "sha256:${"d".repeat(64)}"
`;
  const files = {
    "buildpack.toml": buildpackToml(
      `[metadata]\n  custom = { kept = true }\n${dependencies}\n${targetsToml("linux/amd64", "linux/arm64")}`,
    ),
    "bin/build": script("b"),
    "bin/detect": script("d"),
  };

  function uris(t: TargetPlan): string[] {
    const document = parse(t.buildpackToml) as {
      metadata: { dependencies: { uri: string }[]; custom: unknown };
    };
    assert.deepEqual({ ...(document.metadata.custom as object) }, { kept: true });
    return document.metadata.dependencies.map((d) => d.uri);
  }

  test("each target's buildpack.toml holds only its own dependencies; a gap is a warning", async () => {
    const result = await plan(files);
    assert.deepEqual(uris(target(result, "linux/amd64")), [
      "https://example.com/runtime-amd64.tgz",
      "https://example.com/docs.tgz",
      "https://example.com/tool.tgz",
    ]);
    assert.deepEqual(uris(target(result, "linux/arm64")), [
      "https://example.com/runtime-arm64.tgz",
      "https://example.com/docs.tgz",
    ]);
    const generated = target(result, "linux/arm64").files.find((f) => f.path === "buildpack.toml");
    assert.ok(
      generated &&
        "content" in generated &&
        generated.content === target(result, "linux/arm64").buildpackToml,
    );
    assert.match(
      result.warnings.join("\n"),
      /target linux\/arm64 has no version of dependency "amd64-only-tool"/,
    );
  });

  test("--strict turns the gap into DEPENDENCY_COVERAGE_INCOMPLETE", async () => {
    await assert.rejects(plan(files, { strict: true }), rejects("DEPENDENCY_COVERAGE_INCOMPLETE"));
  });

  test("offline: the target's files go to dependencies/<hex> and the URIs point there", async () => {
    const result = await plan(files, { offline: true });
    const arm = target(result, "linux/arm64");
    assert.deepEqual(uris(arm), [
      `file:///dependencies/${"b".repeat(64)}`,
      `file:///dependencies/${"c".repeat(64)}`,
    ]);
    assert.deepEqual(
      arm.files.filter((f) => f.path.startsWith("dependencies")).map((f) => f.path),
      ["dependencies", `dependencies/${"b".repeat(64)}`, `dependencies/${"c".repeat(64)}`],
    );
    assert.deepEqual(
      arm.dependencies.map((d) => d.file),
      [`dependencies/${"b".repeat(64)}`, `dependencies/${"c".repeat(64)}`],
    );
  });
});

describe("bad input", () => {
  const ok = { "buildpack.toml": buildpackToml(targetsToml("linux/amd64")), ...BIN("amd64") };

  test("an unknown --target is TARGET_INVALID; an undeclared one TARGET_NOT_DECLARED under --strict", async () => {
    await assert.rejects(
      plan(ok, { targets: ["linux/sparc9"] }),
      rejects("TARGET_INVALID", (m) => assert.match(m, /sparc9/)),
    );
    await assert.rejects(plan(ok, { targets: ["linux"] }), rejects("TARGET_INVALID"));
    await assert.rejects(
      plan(ok, { targets: ["linux/arm64"], strict: true }),
      rejects("TARGET_NOT_DECLARED"),
    );
  });

  test("invalid TOML is BUILDPACK_TOML_INVALID naming the file and line", async () => {
    await assert.rejects(
      plan({ ...ok, "buildpack.toml": 'api = "0.10"\n[buildpack\nid = "x"\n' }),
      rejects("BUILDPACK_TOML_INVALID", (m) => assert.match(m, /buildpack\.toml:2:/)),
    );
  });
});

describe("left out by default", () => {
  test(".git, earlier packages and layouts and polypack's temporaries are not packaged, and the plan says so", async () => {
    const tarBlock = Buffer.alloc(1024);
    tarBlock.write("ustar", 257, "latin1");
    const result = await plan({
      "buildpack.toml": buildpackToml(targetsToml("linux/amd64")),
      "bin/build": script("build"),
      "bin/detect": script("detect"),
      ".git/config": "[core]",
      "out.cnb": { content: tarBlock.toString("latin1") },
      "notes.cnb": "not an archive: packaged",
      "old-layout/oci-layout": '{"imageLayoutVersion":"1.0.0"}',
      "old-layout/index.json": "{}",
      ".out.cnb.0123456789ab.tmp": "partial",
      ".gitignore": "kept",
    });
    assert.deepEqual(layout(result.targets[0]!), [
      ".gitignore <- .gitignore",
      "bin",
      "bin/build <- bin/build",
      "bin/detect <- bin/detect",
      "buildpack.toml",
      "notes.cnb <- notes.cnb",
    ]);
    assert.deepEqual(
      result.excluded?.map((e) => `${e.path}: ${e.reason}`),
      [
        ".git: a git repository",
        ".out.cnb.0123456789ab.tmp: a polypack temporary",
        "old-layout: an OCI image layout",
        "out.cnb: a package (.cnb)",
      ],
    );
  });
});

test("a version of a dependency missing for one target is a warning of the plan, which the CLI prints", async () => {
  const deps = ["1.0.0", "2.0.0"]
    .map((v) => `[[metadata.dependencies]]\n  id = "x"\n  version = "${v}"\n  arch = "amd64"\n`)
    .join("");
  const result = await plan({
    "buildpack.toml": buildpackToml(
      `${deps}[[metadata.dependencies]]\n  id = "x"\n  version = "2.0.0"\n  arch = "arm64"\n\n${targetsToml("linux/amd64", "linux/arm64")}`,
    ),
    ...BIN("amd64"),
    ...BIN("arm64"),
  });
  assert.match(result.warnings.join("\n"), /target linux\/arm64 lacks versions 1\.0\.0 of dependency "x"/);
});
