import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isPolypackError } from "../../../src/errors/index.js";
import type { ImageConfig } from "../../../src/oci/manifest.js";
import { checkBuildImage, checkRunImage, checkStackPair } from "../../../src/stack/check.js";

const PATH = "PATH=/usr/bin:/bin";

function config(
  env: string[],
  user: string | undefined,
  labels: Record<string, string> = {},
  arch = "amd64",
): ImageConfig {
  return {
    architecture: arch,
    os: "linux",
    rootfs: { type: "layers", diff_ids: [] },
    config: { Env: env, ...(user !== undefined ? { User: user } : {}), Labels: labels },
  };
}

const distro = (name: string, version: string): Record<string, string> => ({
  "io.buildpacks.base.distro.name": name,
  "io.buildpacks.base.distro.version": version,
});

/** Asserts that `fn` throws a PolypackError with `code` whose message matches every pattern. */
function throwsCode(fn: () => unknown, code: string, ...patterns: RegExp[]): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(isPolypackError(error), String(error));
    assert.equal(error.code, code);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
}

describe("checkBuildImage", () => {
  it("returns the CNB user of a good build image", () => {
    const good = config([PATH, "CNB_USER_ID=1000", "CNB_GROUP_ID=1001"], "1000:1001");
    assert.deepEqual(checkBuildImage({ name: "b", config: good }), { uid: 1000, gid: 1001 });
    const named = config([PATH, "CNB_USER_ID=1000", "CNB_GROUP_ID=1000"], "cnb");
    assert.deepEqual(checkBuildImage({ name: "b", config: named }), { uid: 1000, gid: 1000 });
  });

  it("refuses a build image without CNB_USER_ID or CNB_GROUP_ID, naming image, platform and key", () => {
    throwsCode(
      () =>
        checkBuildImage(
          { name: "reg/build:1", config: config([PATH, "CNB_GROUP_ID=1000"], "1000") },
          "linux/arm64",
        ),
      "BUILD_IMAGE_INVALID",
      /reg\/build:1 \(linux\/arm64\)/,
      /CNB_USER_ID/,
    );
    throwsCode(
      () => checkBuildImage({ name: "b", config: config([PATH, "CNB_USER_ID=1000"], "1000") }),
      "BUILD_IMAGE_INVALID",
      /CNB_GROUP_ID/,
    );
    throwsCode(
      () => checkBuildImage({ name: "b", config: config([PATH, "CNB_USER_ID=cnb", "CNB_GROUP_ID=1"], "1") }),
      "BUILD_IMAGE_INVALID",
      /CNB_USER_ID=cnb/,
    );
  });

  it("refuses a root user, however it is spelled", () => {
    const env = [PATH, "CNB_USER_ID=1000", "CNB_GROUP_ID=1000"];
    for (const user of [undefined, "", "root", "0", "0:0", "root:1000"]) {
      throwsCode(
        () => checkBuildImage({ name: "b", config: config(env, user) }),
        "BUILD_IMAGE_INVALID",
        /root/,
      );
    }
    throwsCode(
      () => checkBuildImage({ name: "b", config: config([PATH, "CNB_USER_ID=0", "CNB_GROUP_ID=0"], "0") }),
      "BUILD_IMAGE_INVALID",
      /CNB_USER_ID=0/,
    );
  });

  it("refuses a numeric User other than the CNB user, and a missing PATH", () => {
    const env = [PATH, "CNB_USER_ID=1000", "CNB_GROUP_ID=1000"];
    throwsCode(
      () => checkBuildImage({ name: "b", config: config(env, "1001") }),
      "BUILD_IMAGE_INVALID",
      /User 1001/,
    );
    throwsCode(
      () => checkBuildImage({ name: "b", config: config(env, "1000:2000") }),
      "BUILD_IMAGE_INVALID",
      /CNB_GROUP_ID is 1000/,
    );
    throwsCode(
      () => checkBuildImage({ name: "b", config: config(["CNB_USER_ID=1000", "CNB_GROUP_ID=1000"], "1000") }),
      "BUILD_IMAGE_INVALID",
      /PATH/,
    );
  });
});

describe("checkRunImage", () => {
  it("needs PATH, os and architecture", () => {
    checkRunImage({ name: "r", config: config([PATH], undefined) });
    throwsCode(
      () => checkRunImage({ name: "r", config: config([], "1000") }),
      "RUN_IMAGE_INVALID",
      /run image r/,
    );
    const noArch = { ...config([PATH], undefined), architecture: "" };
    throwsCode(() => checkRunImage({ name: "r", config: noArch }), "RUN_IMAGE_INVALID", /architecture/);
  });
});

describe("checkStackPair", () => {
  const build = (labels: Record<string, string>, arch = "amd64"): ImageConfig =>
    config([PATH, "CNB_USER_ID=1000", "CNB_GROUP_ID=1000"], "1000:1000", labels, arch);

  it("accepts the same platform and distro, and takes a distro the caller read over the labels", () => {
    checkStackPair(
      { name: "b", config: build(distro("ubuntu", "24.04")) },
      { name: "r", config: config([PATH], undefined, distro("ubuntu", "24.04")) },
    );
    checkStackPair(
      { name: "b", config: build({}), distro: { name: "ubuntu", version: "24.04" } },
      { name: "r", config: config([PATH], undefined, distro("ubuntu", "24.04")) },
    );
  });

  it("refuses different distros, naming both images, the platform and both values", () => {
    throwsCode(
      () =>
        checkStackPair(
          { name: "reg/build", config: build(distro("ubuntu", "24.04")) },
          { name: "reg/run", config: config([PATH], undefined, distro("ubuntu", "22.04")) },
          "linux/amd64",
        ),
      "STACK_MISMATCH",
      /reg\/build/,
      /reg\/run/,
      /linux\/amd64/,
      /ubuntu@24\.04 and ubuntu@22\.04/,
    );
    throwsCode(
      () =>
        checkStackPair(
          { name: "b", config: build(distro("debian", "12")) },
          { name: "r", config: config([PATH], undefined, {}) },
        ),
      "STACK_MISMATCH",
      /debian@12 and none/,
    );
  });

  it("refuses different architectures", () => {
    throwsCode(
      () =>
        checkStackPair(
          { name: "b", config: build(distro("d", "1")) },
          { name: "r", config: config([PATH], undefined, distro("d", "1"), "arm64") },
        ),
      "STACK_MISMATCH",
      /architecture: amd64 and arm64/,
    );
  });
});
