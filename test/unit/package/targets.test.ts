import assert from "node:assert/strict";
import { test } from "node:test";
import { makeTarget, parsePackageToml, targetKey } from "../../../src/buildpack/index.js";
import { isPolypackError } from "../../../src/errors/index.js";
import {
  parseTargetFlag,
  prePackageTargets,
  selectTargets,
  targetFolders,
} from "../../../src/package/plan-targets.js";

const declared = {
  targets: [makeTarget({ os: "linux", arch: "amd64" }), makeTarget({ os: "linux", arch: "arm64" })],
  stacks: [],
};

test("--target values parse like pack's, with aliases and distros", () => {
  assert.equal(targetKey(parseTargetFlag("linux/aarch64")), "linux/arm64");
  assert.equal(targetKey(parseTargetFlag("linux/arm/v6")), "linux/arm/v6");
  const distro = parseTargetFlag("linux/amd64:ubuntu@22.04;ubuntu@24.04");
  assert.deepEqual(distro.distros, [
    { name: "ubuntu", version: "22.04" },
    { name: "ubuntu", version: "24.04" },
  ]);
  for (const bad of [
    "linux",
    "linux/amd64/v2/x",
    "beos/amd64",
    "linux/sparc9",
    "linux/amd64:@22.04",
    "a:b:c",
  ]) {
    assert.throws(
      () => parseTargetFlag(bad),
      (e) => isPolypackError(e, "TARGET_INVALID"),
      bad,
    );
  }
});

test("flags win over package.toml, which wins over buildpack.toml", () => {
  const config = parsePackageToml('[buildpack]\nuri = "."\n\n[[targets]]\nos = "linux"\narch = "arm64"\n');
  assert.deepEqual(
    selectTargets(declared, { hasRootBin: false }).targets.map((t) => t.key),
    ["linux/amd64", "linux/arm64"],
  );
  const fromConfig = selectTargets(declared, { hasRootBin: false, packageConfig: config });
  assert.equal(fromConfig.origin, "package.toml");
  assert.deepEqual(
    fromConfig.targets.map((t) => t.key),
    ["linux/arm64"],
  );
  const fromFlags = selectTargets(declared, {
    hasRootBin: false,
    packageConfig: config,
    flags: ["linux/arm64", "linux/arm64"],
  });
  assert.equal(fromFlags.origin, "flags");
  assert.deepEqual(
    fromFlags.targets.map((t) => t.key),
    ["linux/arm64"],
  );
  // pack packages a target buildpack.toml does not declare; so does polypack with --no-verify (and
  // says so). Verified, it is refused before any work, since verification would refuse it after.
  assert.throws(
    () => selectTargets(declared, { hasRootBin: false, flags: ["linux/s390x"] }),
    (e) =>
      isPolypackError(e, "TARGET_NOT_DECLARED") &&
      /verification would refuse it/.test(e.message) &&
      /--no-verify/.test(e.hint ?? ""),
  );
  const unverified = selectTargets(declared, { hasRootBin: false, flags: ["linux/s390x"], verify: false });
  assert.deepEqual(
    unverified.targets.map((t) => t.key),
    ["linux/s390x"],
  );
  assert.match(unverified.notes.join("\n"), /--target linux\/s390x is not among .*packaging it anyway/);
  assert.doesNotMatch(unverified.notes.join("\n"), /verification/);
  assert.throws(
    () => selectTargets(declared, { hasRootBin: false, flags: ["linux/s390x"], strict: true }),
    (e) => isPolypackError(e, "TARGET_NOT_DECLARED") && /linux\/amd64, linux\/arm64/.test(e.message),
  );
});

test("package.toml's [platform] os is used when nothing declares targets", () => {
  const config = parsePackageToml('[buildpack]\nuri = "."\n\n[platform]\nos = "windows"\n');
  const selection = selectTargets({ targets: [], stacks: [] }, { hasRootBin: true, packageConfig: config });
  assert.deepEqual(
    selection.targets.map((t) => t.key),
    ["windows/amd64"],
  );
});

test("a target with several distros becomes one image per distro, os.version set", () => {
  const selection = selectTargets(
    { targets: [parseTargetFlag("linux/amd64:ubuntu@22.04;ubuntu@24.04")], stacks: [] },
    { hasRootBin: false },
  );
  assert.deepEqual(
    selection.targets.map((t) => [t.key, t.platform.osVersion, t.folders.at(-1)]),
    [
      ["linux/amd64 (ubuntu@22.04)", "22.04", "linux/amd64/ubuntu@22.04"],
      ["linux/amd64 (ubuntu@24.04)", "24.04", "linux/amd64/ubuntu@24.04"],
    ],
  );
  assert.equal(prePackageTargets(selection.targets), "linux/amd64");
});

test("two targets that are the same image platform are refused", () => {
  assert.throws(
    () =>
      selectTargets(
        {
          targets: [
            makeTarget({ os: "linux", arch: "amd64" }),
            makeTarget({ os: "linux", arch: "x86_64", distros: [] }),
          ],
          stacks: [],
        },
        { hasRootBin: false, flags: ["linux/amd64", "linux/amd64:ubuntu"] },
      ),
    (e) => isPolypackError(e, "TARGET_DUPLICATE"),
  );
});

test("folders follow pack's os/arch/variant/distro@version", () => {
  assert.deepEqual(targetFolders(parseTargetFlag("linux/arm/v6:debian@12")), [
    "linux/arm",
    "linux/arm/v6",
    "linux/arm/v6/debian@12",
  ]);
  assert.equal(
    prePackageTargets(
      selectTargets(
        { targets: [], stacks: [] },
        { hasRootBin: false, flags: ["linux/arm/v7", "linux/amd64"] },
      ).targets,
    ),
    "linux/arm/v7 linux/amd64",
  );
});
