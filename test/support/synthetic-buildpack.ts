import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { pathToFileURL } from "node:url";
import { pseudoRandomStream } from "./images.js";

/** The shape of a generated buildpack. */
export interface SyntheticBuildpack {
  id: string;
  arches: readonly string[];
  dependenciesPerTarget: number;
  /** Bytes of each dependency archive (pseudo-random, so it does not compress). */
  dependencySize: number;
  /**
   * A folder outside the buildpack for the archives, named by `file://` URIs. When absent they
   * sit in the buildpack's `deps/`, named by relative `file:` URIs and left out by include-files.
   */
  downloads?: string;
}

/**
 * Writes a buildpack with shell-script binaries under `linux/<arch>/bin/` and, per target, its own
 * dependency archives declared in packit's dialect. Returns the files it wrote below `dir`.
 */
export async function writeSyntheticBuildpack(dir: string, shape: SyntheticBuildpack): Promise<string[]> {
  const files: string[] = ["buildpack.toml"];
  const binaries: string[] = [];
  const dependencies: string[] = [];
  for (const arch of shape.arches) {
    const bin = join(dir, "linux", arch, "bin");
    await mkdir(bin, { recursive: true });
    for (const name of ["detect", "build"]) {
      await writeFile(join(bin, name), `#!/bin/sh\necho "${name} for ${arch}"\n`);
      await chmod(join(bin, name), 0o755);
      binaries.push(`linux/${arch}/bin/${name}`);
    }
    for (let i = 0; i < shape.dependenciesPerTarget; i++) {
      const name = `dep-${i}-${arch}.tgz`;
      const folder = shape.downloads ?? join(dir, "deps");
      const path = join(folder, name);
      await mkdir(folder, { recursive: true });
      await pipeline(
        pseudoRandomStream(`${shape.id}/${arch}/${i}`, shape.dependencySize),
        createWriteStream(path),
      );
      const checksum = createHash("sha256")
        .update(await readFile(path))
        .digest("hex");
      if (shape.downloads === undefined) files.push(`deps/${name}`);
      const uri = shape.downloads === undefined ? `file:deps/${name}` : pathToFileURL(path).href;
      dependencies.push(
        [
          "[[metadata.dependencies]]",
          `id = "dep-${i}"`,
          `version = "1.0.${i}"`,
          `uri = "${uri}"`,
          `checksum = "sha256:${checksum}"`,
          `os = "linux"`,
          `arch = "${arch}"`,
          `stacks = ["*"]`,
        ].join("\n"),
      );
    }
  }
  const toml = [
    'api = "0.10"',
    "[buildpack]",
    `id = "${shape.id}"`,
    'version = "1.0.0"',
    ...shape.arches.map((arch) => `[[targets]]\nos = "linux"\narch = "${arch}"`),
    "[metadata]",
    `include-files = ${JSON.stringify(["buildpack.toml", ...binaries])}`,
    ...dependencies,
  ].join("\n");
  await writeFile(join(dir, "buildpack.toml"), `${toml}\n`);
  return [...files, ...binaries];
}
