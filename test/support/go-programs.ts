import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

// Kept across test files and runs: the programs depend only on the source and GOARCH below.
const CACHE = join(tmpdir(), "polypack-test-go-programs-v2");
const SOURCE = 'package main\n\nfunc main() { println("hello from polypack tests") }\n';
const building = new Map<string, Promise<string>>();

/**
 * A tiny static Go program built for linux/`arch` (`arm` is GOARM=7, `arm-v6` GOARM=6) (CGO off, so no host toolchain is needed), as
 * a real ELF file for the verify tests: compiled once per machine and reused. Returns its path.
 */
export function goProgram(arch: "amd64" | "arm64" | "arm" | "arm-v6" | "386"): Promise<string> {
  let build = building.get(arch);
  if (build === undefined) {
    build = buildOnce(arch);
    building.set(arch, build);
  }
  return build;
}

async function buildOnce(arch: string): Promise<string> {
  const out = join(CACHE, `hello-${arch}`);
  const goarch = arch.startsWith("arm-") ? "arm" : arch;
  if (existsSync(out)) return out;
  const dir = join(CACHE, "src");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "main.go"), SOURCE);
  await writeFile(join(dir, "go.mod"), "module hello\n\ngo 1.19\n");
  const partial = `${out}.${process.pid}.tmp`;
  await exec("go", ["build", "-trimpath", "-ldflags=-s -w", "-o", partial, "."], {
    cwd: dir,
    env: {
      ...process.env,
      GOOS: "linux",
      GOARCH: goarch,
      CGO_ENABLED: "0",
      GOFLAGS: "-mod=mod",
      GOCACHE: join(CACHE, "gocache"),
      ...(goarch === "arm" ? { GOARM: arch === "arm-v6" ? "6" : "7" } : {}),
    },
  });
  const { rename } = await import("node:fs/promises");
  await rename(partial, out);
  return out;
}
