import { chmod, mkdir, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { tempDir } from "../../support/tmp.js";

/** A file in a tree literal: its text, with an optional mode, or a symlink. */
export type TreeFile = string | { content: string; mode?: number } | { symlink: string };

/** Writes a buildpack directory from an object literal (path → content) into a fresh temp dir. */
export async function writeTree(files: Record<string, TreeFile>, dir?: string): Promise<string> {
  const root = dir ?? (await tempDir("polypack-package-"));
  for (const [path, file] of Object.entries(files)) {
    const target = join(root, path);
    await mkdir(dirname(target), { recursive: true });
    if (typeof file === "string") await writeFile(target, file);
    else if ("symlink" in file) await symlink(file.symlink, target);
    else {
      await writeFile(target, file.content);
      if (file.mode !== undefined) await chmod(target, file.mode);
    }
  }
  return root;
}

/** An executable shell script. */
export function script(text: string): TreeFile {
  return { content: `#!/bin/sh\n${text}\n`, mode: 0o755 };
}

/** A buildpack.toml with the given [buildpack] id and extra TOML after it. */
export function buildpackToml(extra = "", id = "example/hello", version = "1.0.0"): string {
  return `api = "0.10"\n\n[buildpack]\n  id = "${id}"\n  version = "${version}"\n\n${extra}`;
}

/** A `[[targets]]` table per `os/arch[/variant]`. */
export function targetsToml(...platforms: string[]): string {
  return platforms
    .map((p) => {
      const [os, arch, variant] = p.split("/");
      return `[[targets]]\n  os = "${os}"\n  arch = "${arch}"\n${variant ? `  variant = "${variant}"\n` : ""}`;
    })
    .join("\n");
}

export { fixture } from "../../support/fixtures.js";
