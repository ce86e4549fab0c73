import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  buildInvocation,
  detectInvocation,
  layerTypes,
  type RunPaths,
} from "../../../src/emulate/invocation.js";
import { Platform } from "../../../src/oci/platform.js";
import { parseOsRelease } from "../../../src/emulate/test-run.js";
import { parseEnvFlags } from "../../../src/cli/commands/test.js";

const PATHS: RunPaths = {
  buildpackDir: "/cnb/buildpacks/a_b/1.0.0",
  appDir: "/workspace",
  platformDir: "/platform",
  layersDir: "/layers/a_b",
  detectPlanPath: "/tmp/plans/a_b/detect.toml",
  buildPlanPath: "/tmp/plans/a_b/plan.toml",
};
const ARMV7 = Platform.parse("linux/arm/v7");

describe("detect and build invocations per Buildpack API", () => {
  it("API 0.7: positional arguments and CNB_BUILDPACK_DIR only", () => {
    const detect = detectInvocation("0.7", PATHS, ARMV7);
    assert.deepEqual(detect, {
      program: "/cnb/buildpacks/a_b/1.0.0/bin/detect",
      args: ["/platform", "/tmp/plans/a_b/detect.toml"],
      cwd: "/workspace",
      env: { CNB_BUILDPACK_DIR: "/cnb/buildpacks/a_b/1.0.0" },
    });
    const build = buildInvocation("0.7", PATHS, ARMV7);
    assert.deepEqual(build.args, ["/layers/a_b", "/platform", "/tmp/plans/a_b/plan.toml"]);
    assert.deepEqual(Object.keys(build.env), ["CNB_BUILDPACK_DIR"]);
  });

  it("API 0.8 and 0.9: the directories as variables too, no target variables", () => {
    assert.deepEqual(detectInvocation("0.9", PATHS, ARMV7).env, {
      CNB_BUILDPACK_DIR: "/cnb/buildpacks/a_b/1.0.0",
      CNB_PLATFORM_DIR: "/platform",
      CNB_BUILD_PLAN_PATH: "/tmp/plans/a_b/detect.toml",
    });
    assert.deepEqual(buildInvocation("0.8", PATHS, ARMV7).env, {
      CNB_BUILDPACK_DIR: "/cnb/buildpacks/a_b/1.0.0",
      CNB_LAYERS_DIR: "/layers/a_b",
      CNB_PLATFORM_DIR: "/platform",
      CNB_BP_PLAN_PATH: "/tmp/plans/a_b/plan.toml",
    });
  });

  it("API 0.10 on: the target variables, variant and distro only when known", () => {
    const env = buildInvocation("0.10", PATHS, ARMV7, { name: "ubuntu", version: "24.04" }).env;
    assert.equal(env["CNB_TARGET_OS"], "linux");
    assert.equal(env["CNB_TARGET_ARCH"], "arm");
    assert.equal(env["CNB_TARGET_ARCH_VARIANT"], "v7");
    assert.equal(env["CNB_TARGET_DISTRO_NAME"], "ubuntu");
    assert.equal(env["CNB_TARGET_DISTRO_VERSION"], "24.04");
    const plain = detectInvocation("0.11", PATHS, Platform.parse("linux/arm64")).env;
    assert.equal(plain["CNB_TARGET_ARCH"], "arm64");
    assert.equal("CNB_TARGET_ARCH_VARIANT" in plain, false);
    assert.equal("CNB_TARGET_DISTRO_NAME" in plain, false);
  });

  it("reads layer types from [types] from API 0.6, top-level keys before", () => {
    assert.deepEqual(layerTypes("0.10", { types: { launch: true, cache: true } }), {
      launch: true,
      build: false,
      cache: true,
    });
    assert.deepEqual(layerTypes("0.10", { launch: true }), { launch: false, build: false, cache: false });
    assert.deepEqual(layerTypes("0.5", { build: true }), { launch: false, build: true, cache: false });
  });
});

describe("polypack test inputs", () => {
  it("reads os-release fields with and without quotes", () => {
    assert.deepEqual(parseOsRelease('NAME="Ubuntu"\nID=ubuntu\nVERSION_ID="24.04"\n# comment\n'), {
      NAME: "Ubuntu",
      ID: "ubuntu",
      VERSION_ID: "24.04",
    });
  });

  it("reads --env NAME=value and NAME, refusing bad names and unset variables", () => {
    assert.deepEqual(parseEnvFlags(["A=1", "B=x=y", "C"], { C: "from shell" }), {
      A: "1",
      B: "x=y",
      C: "from shell",
    });
    assert.throws(() => parseEnvFlags(["1A=x"], {}), { code: "FLAG_INVALID" });
    assert.throws(() => parseEnvFlags(["MISSING"], {}), { code: "FLAG_INVALID" });
  });
});
