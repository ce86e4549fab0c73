import type { Target } from "../buildpack/descriptor-types.js";

/** What a new buildpack or extension is made of. */
export interface ScaffoldSpec {
  kind: "buildpack" | "extension";
  id: string;
  api: string;
  version: string;
  targets: readonly Target[];
  /** `[[stacks]]` ids (buildpacks only; pack's `--stacks`). */
  stacks: readonly string[];
}

/** One file of the scaffold: its path below the new folder, its text and whether it is executable. */
export interface ScaffoldFile {
  path: string;
  text: string;
  executable: boolean;
}

/** The per-target folder of a target, as polypack and pack look for it: `<os>/<arch>[/<variant>]`. */
export function targetFolder(target: Target): string {
  const { os, architecture, variant } = target.platform;
  return [os, architecture, variant].filter(Boolean).join("/");
}

/**
 * The files of a new multi-arch buildpack or extension: the descriptor with one `[[targets]]` per
 * target, the programs' sources in `src/`, a pre-package script that puts them into each target's
 * folder (where a real buildpack cross-compiles), and those folders already filled once, so the
 * scaffold packages as it is.
 */
export function scaffoldFiles(spec: ScaffoldSpec): ScaffoldFile[] {
  const programs = spec.kind === "extension" ? ["detect", "generate"] : ["detect", "build"];
  const sources = programs.map((name) => ({ name, text: programScript(spec, name) }));
  const folders = spec.targets.map(targetFolder);
  return [
    { path: `${spec.kind}.toml`, text: descriptor(spec), executable: false },
    ...sources.map(({ name, text }) => ({ path: `src/${name}`, text, executable: true })),
    { path: "scripts/build.sh", text: buildScript(spec, programs), executable: true },
    ...folders.flatMap((folder) =>
      sources.map(({ name, text }) => ({ path: `${folder}/bin/${name}`, text, executable: true })),
    ),
    { path: "README.md", text: readme(spec, folders), executable: false },
  ];
}

function descriptor(spec: ScaffoldSpec): string {
  const lines = [`api = ${quote(spec.api)}`, "", `[${spec.kind}]`, `  id = ${quote(spec.id)}`];
  lines.push(`  version = ${quote(spec.version)}`);
  for (const target of spec.targets) {
    const { os, architecture, variant } = target.platform;
    lines.push("", "[[targets]]", `  os = ${quote(os)}`, `  arch = ${quote(architecture)}`);
    if (variant) lines.push(`  variant = ${quote(variant)}`);
    for (const distro of target.distros) {
      lines.push("", "  [[targets.distros]]", `    name = ${quote(distro.name)}`);
      if (distro.version) lines.push(`    version = ${quote(distro.version)}`);
    }
  }
  for (const stack of spec.stacks) lines.push("", "[[stacks]]", `  id = ${quote(stack)}`);
  lines.push(
    "",
    "[metadata]",
    "  # Run once by `polypack " + spec.kind + " package` with POLYPACK_TARGETS set (see scripts/build.sh).",
    '  pre-package = "./scripts/build.sh"',
    "",
  );
  return lines.join("\n");
}

function programScript(spec: ScaffoldSpec, name: string): string {
  const body: Record<string, string> = {
    detect: `# Decide whether ${spec.id} applies to the application; exit 100 when it does not.\nexit 0`,
    build: `# Contribute layers to the application image here (CNB_LAYERS_DIR, CNB_BP_PLAN_PATH).\necho "---> ${spec.id} ${spec.version}"`,
    generate: `# Write a Dockerfile for the build or run image into CNB_OUTPUT_DIR here, or nothing.\necho "---> ${spec.id} ${spec.version}"`,
  };
  return `#!/usr/bin/env bash\nset -euo pipefail\n\n${body[name] ?? ""}\n`;
}

function buildScript(spec: ScaffoldSpec, programs: readonly string[]): string {
  const all = spec.targets.map((t) => t.platform.toString()).join(" ");
  return `#!/usr/bin/env bash
# The pre-package step: puts the programs into bin/ of each target's folder. polypack runs it once
# from the ${spec.kind}'s folder with POLYPACK_TARGETS set to the targets being packaged, such as
# "linux/amd64 linux/arm64". Programs written in a compiled language are cross-compiled here, for
# example: GOOS="$os" GOARCH="$arch" go build -o "$os/$arch/bin/${programs[1]}" ./cmd/${programs[1]}
set -euo pipefail
cd "$(dirname "$0")/.."

for target in \${POLYPACK_TARGETS:-${all}}; do
  mkdir -p "$target/bin"
  for program in ${programs.join(" ")}; do
    cp "src/$program" "$target/bin/$program"
    chmod 755 "$target/bin/$program"
  done
done
`;
}

function readme(spec: ScaffoldSpec, folders: readonly string[]): string {
  return `# ${spec.id}

A multi-architecture ${spec.kind === "extension" ? "image extension" : "buildpack"} made by \`polypack ${spec.kind} new\`.

- \`${spec.kind}.toml\` declares one \`[[targets]]\` per platform: ${spec.targets.map((t) => t.platform.toString()).join(", ")}.
- \`src/\` holds the programs; \`scripts/build.sh\` (the pre-package step) puts them into each
  target's folder (${folders.map((f) => `\`${f}/bin/\``).join(", ")}), where a real ${spec.kind} would cross-compile.

Package it for every target as one multi-arch .cnb file:

    polypack ${spec.kind} package ${spec.id.split("/").pop()}.cnb --path . --format file
${
  spec.kind === "buildpack"
    ? `
Run its detect and build for each target on this machine (foreign ones under proot and qemu-user).
\`bin/detect\` and \`bin/build\` are bash scripts, so a foreign target needs a build image with bash
to run them in (an image with bash for each target, such as a multi-arch Ubuntu), for example:

    polypack test . --build-image docker.io/library/ubuntu:24.04
`
    : ""
}`;
}

function quote(value: string): string {
  return JSON.stringify(value);
}
