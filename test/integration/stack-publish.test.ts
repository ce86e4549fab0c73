/**
 * `stack publish` joins per-platform build and run images (OCI layouts and an oci-archive, as a
 * Dockerfile build per architecture would leave them) into two indexes in a real registry, after
 * checking that they form one stack; each bad input is refused naming platform and label, and
 * leaves no tag.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Image } from "../../src/image/image.js";
import { write } from "../../src/image/write.js";
import { CnbTarget } from "../../src/layout/cnb-target.js";
import { LayoutTarget } from "../../src/layout/layout-target.js";
import type { ImageIndex } from "../../src/oci/manifest.js";
import { baseImage, type BaseImageOptions, type TestArch } from "../support/base-images.js";
import { startRegistry, type RegistryHandle } from "../support/registry.js";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";
import { polypack, polypackOk } from "./buildpack-package-support.js";

const CNB = { uid: 1000, gid: 1000 };
const STACK = { "io.buildpacks.stack.id": "io.polypack.test" };

describe("stack publish", () => {
  let registry: RegistryHandle;
  let work: string;
  let layout: string;

  /** Writes a test base image into the shared layout under `ref`; returns its `oci:` name. */
  const image = async (ref: string, arch: TestArch, options: BaseImageOptions): Promise<string> => {
    await write(await baseImage(arch, options), await LayoutTarget.create(layout), { tags: [ref] });
    return `oci:${layout}:${ref}`;
  };
  const buildOptions = (extra: BaseImageOptions = {}): BaseImageOptions => ({
    cnbUser: CNB,
    labels: STACK,
    ...extra,
  });
  const runOptions = (extra: BaseImageOptions = {}): BaseImageOptions => ({
    cnbUser: CNB,
    omitCnbEnv: true,
    labels: STACK,
    ...extra,
  });

  before(async () => {
    work = await tempDir("polypack-stack-publish-");
    layout = join(work, "images");
    registry = await startRegistry();
  });
  after(async () => {
    await registry?.stop();
  });

  test("joins layouts and an oci-archive into build and run indexes; a re-run writes nothing", async () => {
    const archive = join(work, "build-arm64.cnb");
    const armBuild: Image = await baseImage("arm64", buildOptions());
    await write(armBuild, await CnbTarget.create(archive), { tags: ["latest"] });
    const args = [
      "--json",
      "stack",
      "publish",
      `${registry.host}/ok/build:1`,
      `${registry.host}/ok/run:1`,
      "--build",
      await image("build-amd64", "amd64", buildOptions()),
      `oci-archive:${archive}`,
      "--run",
      await image("run-amd64", "amd64", runOptions()),
      await image("run-arm64", "arm64", runOptions()),
      "--publish",
    ];
    const first = JSON.parse((await polypackOk(args)).stdout) as {
      build: { digest: string };
      targets: { platform: string; distro: string; build: string }[];
      upToDate: boolean;
    };
    assert.deepEqual(
      first.targets.map((t) => [t.platform, t.distro]),
      [
        ["linux/amd64", "polypack-test@1.0"],
        ["linux/arm64", "polypack-test@1.0"],
      ],
    );
    assert.equal(first.targets[1]!.build, (await armBuild.descriptor()).digest, "images joined as they are");
    for (const repository of ["ok/build", "ok/run"]) {
      const index = JSON.parse(
        await run("skopeo", [
          "inspect",
          "--tls-verify=false",
          "--raw",
          `docker://${registry.host}/${repository}:1`,
        ]),
      ) as ImageIndex;
      assert.deepEqual(
        index.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`),
        ["linux/amd64", "linux/arm64"],
      );
    }
    const again = JSON.parse((await polypackOk(args)).stdout) as {
      build: { digest: string };
      upToDate: boolean;
    };
    assert.equal(again.build.digest, first.build.digest);
    assert.equal(again.upToDate, true);
  });

  test("refuses platforms that disagree, build images breaking the spec, and run images that do not match, tagging nothing", async () => {
    const good = {
      buildAmd: await image("b-amd64", "amd64", buildOptions()),
      buildArm: await image("b-arm64", "arm64", buildOptions()),
      runAmd: await image("r-amd64", "amd64", runOptions()),
      runArm: await image("r-arm64", "arm64", runOptions()),
    };
    const cases: { name: string; build: string[]; run: string[]; code: string; message: RegExp }[] = [
      {
        name: "another stack id on arm64",
        build: [
          good.buildAmd,
          await image(
            "b-arm64-other-id",
            "arm64",
            buildOptions({ labels: { "io.buildpacks.stack.id": "other" } }),
          ),
        ],
        run: [good.runAmd, good.runArm],
        code: "STACK_MISMATCH",
        message:
          /linux\/arm64 has label io\.buildpacks\.stack\.id "other", but .* for linux\/amd64 has "io\.polypack\.test"/,
      },
      {
        name: "another CNB user id on arm64",
        build: [
          good.buildAmd,
          await image("b-arm64-uid", "arm64", buildOptions({ cnbUser: { uid: 1001, gid: 1000 } })),
        ],
        run: [good.runAmd, good.runArm],
        code: "STACK_MISMATCH",
        message: /linux\/arm64 has env CNB_USER_ID "1001"/,
      },
      {
        name: "another distro on the arm64 run image",
        build: [good.buildAmd, good.buildArm],
        run: [
          good.runAmd,
          await image(
            "r-arm64-distro",
            "arm64",
            runOptions({ distro: { name: "polypack-test", version: "2.0" } }),
          ),
        ],
        code: "STACK_MISMATCH",
        message: /\(linux\/arm64\) have different distros .*polypack-test@1\.0 and polypack-test@2\.0/,
      },
      {
        name: "a build image without CNB_USER_ID",
        build: [good.buildAmd, await image("b-arm64-noenv", "arm64", buildOptions({ omitCnbEnv: true }))],
        run: [good.runAmd, good.runArm],
        code: "BUILD_IMAGE_INVALID",
        message: /b-arm64-noenv \(linux\/arm64\) does not set CNB_USER_ID/,
      },
      {
        name: "a build image with a root user",
        build: [await image("b-amd64-root", "amd64", buildOptions({ user: "root" })), good.buildArm],
        run: [good.runAmd, good.runArm],
        code: "BUILD_IMAGE_INVALID",
        message: /b-amd64-root \(linux\/amd64\) has User root/,
      },
      {
        name: "no run image for arm64",
        build: [good.buildAmd, good.buildArm],
        run: [good.runAmd],
        code: "STACK_PLATFORM_MISSING",
        message: /b-arm64 is for linux\/arm64, but no run image given is/,
      },
    ];
    for (const [i, { name, build, run: runs, code, message }] of cases.entries()) {
      const outcome = await polypack([
        "--json",
        "stack",
        "publish",
        `${registry.host}/bad${i}/build:1`,
        `${registry.host}/bad${i}/run:1`,
        "--build",
        ...build,
        "--run",
        ...runs,
        "--publish",
      ]);
      assert.equal(outcome.code, 1, `${name}: ${outcome.stderr}`);
      const error = (JSON.parse(outcome.stdout) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, code, name);
      assert.match(error.message, message, name);
      for (const kind of ["build", "run"]) {
        const response = await fetch(`${registry.url}/v2/bad${i}/${kind}/manifests/1`, { method: "HEAD" });
        assert.equal(response.status, 404, `${name}: no ${kind} tag`);
      }
    }
  });
});
