import type { Example } from "../help.js";

/** The examples of `buildpack package` and `extension package`. */
export function packageExamples(kind: "buildpack" | "extension"): Example[] {
  const name = kind === "extension" ? "my-extension" : "my-buildpack";
  return [
    {
      does: `package ./${name} for its targets as one multi-arch .cnb (${name}.cnb)`,
      run: `polypack ${kind} package ${name} --path ./${name} --format file`,
    },
    {
      does: "push it to a registry as a multi-arch index, version 1.2.3, tagged 1.2.3 and latest",
      run: `polypack ${kind} package registry.example.com/me/${name}:1.2.3 --path ./${name} --version 1.2.3 --publish --tag latest`,
    },
    {
      does: "show what would be packaged for linux/arm64, without writing anything",
      run: `polypack ${kind} package x --path ./${name} --target linux/arm64 --dry-run`,
    },
  ];
}
