import type { PackagePlan } from "../../package/plan.js";
import { renderTable } from "../table.js";

/** The text form of a `--dry-run`: per target the source folder, the layer's files and the dependencies. */
export function renderPlan(plan: PackagePlan): string {
  const lines = [
    `Buildpack:  ${plan.id}@${plan.version}${plan.composite ? " (composite)" : ""}`,
    `Layer root: /${plan.layerRoot}`,
    `Targets:    ${plan.targets.map((t) => t.key).join(", ")} (from ${plan.targetOrigin})`,
    ...(plan.prePackage ? [`Pre-package: ${plan.prePackage} (not run in a dry run)`] : []),
    `Metadata:   ${plan.metadataLabel}`,
    ...(plan.excluded ?? []).map(
      (e) => `Left out:   ${e.path} (${e.reason}; list files in include-files to choose)`,
    ),
  ];
  for (const target of plan.targets) {
    lines.push("", `== ${target.key}${target.sourceFolder ? ` (files from ${target.sourceFolder}/)` : ""}`);
    const rows = target.files.map((file) => [
      file.type === "file"
        ? file.mode & 0o111
          ? "0755"
          : "0644"
        : file.type === "directory"
          ? "dir"
          : "link",
      file.path +
        (file.type === "symlink"
          ? ` -> ${file.linkname}`
          : file.type === "hardlink"
            ? ` => ${file.linkname}`
            : ""),
      file.type !== "file"
        ? ""
        : "source" in file
          ? file.source
          : "content" in file
            ? "(generated)"
            : `(dependency ${file.dependency})`,
    ]);
    lines.push(renderTable(["MODE", "PATH", "FROM"], rows));
    if (target.dependencies.length > 0) {
      lines.push(
        "",
        renderTable(
          ["DEPENDENCY", "VERSION", "URI"],
          target.dependencies.map((d) => [d.id, d.version, d.file ? `file:///${d.file}` : (d.uri ?? "")]),
        ),
      );
    }
  }
  return lines.join("\n");
}
