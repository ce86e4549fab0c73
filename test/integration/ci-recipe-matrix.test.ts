/**
 * The matrix recipe (examples/ci/github-actions/buildpack-matrix.yml) played end to end against a
 * real registry, with the workflow's own polypack command lines: two "machines" (separate working
 * copies and caches) package their target and push it by digest, the join publishes the index, a
 * second join uploads nothing new, and a release whose arm64 job fails leaves the published tags alone.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { ImageIndex } from "../../src/oci/manifest.js";
import {
  polypackInvocations,
  repositoryRoot,
  workflowShell,
  type Expansions,
} from "../support/ci-recipes.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { startRegistry, type RegistryHandle } from "../support/registry.js";
import { tempDir } from "../support/tmp.js";
import { copyExample, polypack } from "./buildpack-package-support.js";

const RECIPE = readFileSync(
  join(repositoryRoot(), "examples", "ci", "github-actions", "buildpack-matrix.yml"),
  "utf8",
);
const TARGETS = ["linux/amd64", "linux/arm64"] as const;

describe("the matrix CI recipe against a registry", () => {
  let registry: RegistryHandle;
  let proxy: FaultProxy;
  let work: string;
  let image: string;

  before(async () => {
    registry = await startRegistry();
    proxy = await startFaultProxy(registry.url);
    work = await tempDir("polypack-ci-recipe-");
    image = `${proxy.host}/ci/hello`;
  });
  after(async () => {
    await proxy?.stop();
    await registry?.stop();
  });

  /** The recipe's polypack lines with the workflow's variables and matrix filled in. */
  function lines(version: string, target: string, digests: readonly string[] = []): string[][] {
    const expansions: Expansions = {
      variables: { IMAGE: image, VERSION: version },
      expression: (expression) => (expression.includes("target") ? target : target.split("/")[1]!),
      substitution: () => [...digests],
    };
    return polypackInvocations(workflowShell(RECIPE), expansions);
  }

  /** One matrix job: its own working copy and cache, the recipe's package line; the digest or the failure. */
  async function matrixJob(
    version: string,
    target: string,
    sabotage = false,
  ): Promise<{ code: number; digest?: string; stderr: string }> {
    const machine = await copyExample(join(work, `${version}-${target.replace("/", "-")}`));
    if (sabotage) {
      // The job's toolchain breaks: pre-package fails, as a failed compile would.
      await writeFile(
        join(machine, "scripts", "build.sh"),
        "#!/bin/sh\necho 'cross-compiler crashed' >&2\nexit 1\n",
      );
    }
    const packageLine = lines(version, target).find((args) => args.includes("--by-digest"));
    assert.ok(packageLine, "the recipe has a --by-digest package line");
    const outcome = await polypack(["--insecure-registry", proxy.host, ...packageLine], {
      cwd: machine,
      env: { POLYPACK_CACHE_DIR: join(work, `cache-${version}-${target.replace("/", "-")}`) },
    });
    if (outcome.code !== 0) return { code: outcome.code, stderr: outcome.stderr };
    return {
      code: 0,
      digest: (JSON.parse(outcome.stdout) as { digest: string }).digest,
      stderr: outcome.stderr,
    };
  }

  /** The recipe's join lines, with the digests the matrix jobs left as artifacts. */
  async function join_(version: string, digests: readonly string[]): Promise<void> {
    const refs = digests.map((digest) => `${image}@${digest}`);
    const joins = lines(version, "linux/amd64", refs).filter((args) => args[0] === "manifest");
    assert.ok(joins.length >= 1, "the recipe has a join line");
    for (const args of joins) {
      const outcome = await polypack(["--insecure-registry", proxy.host, ...args]);
      assert.equal(outcome.code, 0, `polypack ${args.join(" ")}\n${outcome.stderr}`);
    }
  }

  async function tagged(tag: string): Promise<{ digest: string; platforms: string[] } | undefined> {
    const response = await fetch(`${registry.url}/v2/ci/hello/manifests/${tag}`, {
      headers: { accept: "application/vnd.oci.image.index.v1+json" },
    });
    if (response.status === 404) return undefined;
    const index = (await response.json()) as ImageIndex;
    return {
      digest: response.headers.get("docker-content-digest") ?? "",
      platforms: index.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`),
    };
  }

  test("two machines push by digest, the join publishes the index, a second join uploads nothing new", async () => {
    const jobs = await Promise.all(TARGETS.map((target) => matrixJob("1.0.0", target)));
    for (const job of jobs) assert.equal(job.code, 0, job.stderr);
    assert.equal(await tagged("1.0.0"), undefined, "pushing by digest moves no tag");
    const digests = jobs.map((job) => job.digest!);
    await join_("1.0.0", digests);
    const published = await tagged("1.0.0");
    assert.deepEqual(published?.platforms, ["linux/amd64", "linux/arm64"]);
    assert.equal((await tagged("latest"))?.digest, published?.digest);

    const before = proxy.requests.length;
    await join_("1.0.0", digests);
    const writes = proxy.requests.slice(before).filter((r) => r.method !== "GET" && r.method !== "HEAD");
    // No blob, no manifest and no tag is written again: the tags already name the index.
    assert.deepEqual(
      writes.map((r) => `${r.method} ${r.path}`),
      [],
      "the join run again writes nothing",
    );
    assert.equal((await tagged("1.0.0"))?.digest, published?.digest);

    // A release whose arm64 job fails: the amd64 job pushes by digest, the join never runs.
    const release = await Promise.all([
      matrixJob("2.0.0", "linux/amd64"),
      matrixJob("2.0.0", "linux/arm64", true),
    ]);
    assert.equal(release[0].code, 0, release[0].stderr);
    assert.notEqual(release[1].code, 0);
    assert.match(release[1].stderr, /cross-compiler crashed/);
    assert.equal(await tagged("2.0.0"), undefined);
    assert.equal((await tagged("latest"))?.digest, published?.digest, "latest still names the 1.0.0 index");
  });
});
