import assert from "node:assert/strict";
import { test } from "node:test";
import { isPolypackError } from "../../../src/errors/index.js";
import { Platform } from "../../../src/oci/platform.js";
import { selectTarget } from "../../../src/buildpack/target-env.js";
import {
  effectiveTargets,
  makeTarget,
  targetKey,
  targetsFromStacks,
  targetsOverlap,
} from "../../../src/buildpack/targets.js";

test("targets from stacks: bionic is linux/amd64 ubuntu 18.04, any other id is linux on any arch", () => {
  assert.deepEqual(targetsFromStacks([{ id: "io.buildpacks.stacks.bionic", mixins: [] }]).map(targetKey), [
    "linux/amd64 (ubuntu@18.04)",
  ]);
  const bionic = targetsFromStacks([{ id: "io.buildpacks.stacks.bionic", mixins: [] }])[0];
  assert.equal(bionic?.platform.osVersion, "18.04");
  assert.deepEqual(
    targetsFromStacks([
      { id: "*", mixins: [] },
      { id: "io.buildpacks.stacks.jammy", mixins: [] },
    ]).map(targetKey),
    ["linux/*"],
  );
});

test("effectiveTargets: targets, else stacks, else linux/amd64 for a bin/ folder, else none", () => {
  const targets = [makeTarget({ os: "linux", arch: "arm64" })];
  const stacks = [{ id: "io.buildpacks.stacks.bionic", mixins: [] }];
  const table: [Parameters<typeof effectiveTargets>[0], boolean, string, string[]][] = [
    [{ targets, stacks }, true, "targets", ["linux/arm64"]],
    [{ targets: [], stacks }, true, "stacks", ["linux/amd64 (ubuntu@18.04)"]],
    [{ targets: [], stacks: [] }, true, "bin", ["linux/amd64"]],
    [{ targets: [], stacks: [] }, false, "none", []],
  ];
  for (const [descriptor, hasBin, source, keys] of table) {
    const result = effectiveTargets(descriptor, { hasBin });
    assert.equal(result.source, source);
    assert.deepEqual(result.targets.map(targetKey), keys);
  }
});

test("targets overlap when empty fields and distro lists match anything", () => {
  const arm64 = makeTarget({ os: "linux", arch: "arm64" });
  const anyLinux = makeTarget({ os: "linux" });
  const noble = makeTarget({ os: "linux", arch: "arm64", distros: [{ name: "ubuntu", version: "24.04" }] });
  const jammy = makeTarget({ os: "linux", arch: "arm64", distros: [{ name: "Ubuntu", version: "22.04" }] });
  const ubuntu = makeTarget({ os: "linux", distros: [{ name: "ubuntu", version: "" }] });
  assert.ok(targetsOverlap(arm64, anyLinux));
  assert.ok(targetsOverlap(noble, arm64));
  assert.ok(!targetsOverlap(noble, jammy));
  assert.ok(targetsOverlap(jammy, ubuntu));
  assert.ok(
    !targetsOverlap(
      makeTarget({ os: "linux", arch: "arm", variant: "v6" }),
      makeTarget({ os: "linux", arch: "armhf" }),
    ),
  );
  assert.ok(targetsOverlap(arm64, makeTarget({ os: "linux", arch: "aarch64" })));
});

const HOST = new Platform({ os: "linux", architecture: "arm64" });

test("selectTarget: CNB_TARGET_* first, then BP_ARCH, then the host", () => {
  const table: [Record<string, string>, string, string][] = [
    [{}, "host", "linux/arm64"],
    [{ BP_ARCH: "x86_64" }, "BP_ARCH", "linux/amd64"],
    [
      { BP_ARCH: "amd64", CNB_TARGET_ARCH: "arm", CNB_TARGET_ARCH_VARIANT: "v6", CNB_TARGET_OS: "linux" },
      "CNB_TARGET",
      "linux/arm/v6",
    ],
    [
      {
        CNB_TARGET_OS: "linux",
        CNB_TARGET_ARCH: "amd64",
        CNB_TARGET_DISTRO_NAME: "ubuntu",
        CNB_TARGET_DISTRO_VERSION: "22.04",
      },
      "CNB_TARGET",
      "linux/amd64 (ubuntu@22.04)",
    ],
    [{ CNB_TARGET_ARCH: "amd64" }, "CNB_TARGET", "linux/amd64"],
  ];
  for (const [env, source, key] of table) {
    const selection = selectTarget(env, HOST);
    assert.equal(selection.source, source, JSON.stringify(env));
    assert.equal(targetKey(selection.target), key, JSON.stringify(env));
  }
});

test("selectTarget refuses names it does not know", () => {
  for (const env of [{ BP_ARCH: "armz" }, { CNB_TARGET_ARCH: "z80" }, { CNB_TARGET_OS: "beos" }]) {
    assert.throws(
      () => selectTarget(env, HOST),
      (e) => isPolypackError(e, "TARGET_ENV_INVALID") && e.message.includes(Object.keys(env)[0] ?? "?"),
    );
  }
});
