import { PolypackError } from "../../errors/index.js";
import { Platform } from "../../oci/platform.js";

/**
 * How upstream projects spell an architecture in their download names. `x64` is Node's and
 * Microsoft's naming (x64, arm64), `x86_64` the kernel's `uname -m` naming (x86_64, aarch64), which
 * most tarballs of C projects and the JDKs use.
 */
const SPELLINGS: Record<string, Record<string, string>> = {
  x64: { amd64: "x64", arm64: "arm64", "386": "x86", arm: "armv7l" },
  x86_64: { amd64: "x86_64", arm64: "aarch64", "386": "i686", arm: "armv7l" },
};

/** The values a URI template is expanded with for one target. */
export interface TemplateValues {
  version: string;
  platform: Platform;
  /** `--arch-name` overrides of what `{arch}` gives: GOARCH name to upstream name (`amd64` → `x64`). */
  archNames?: Readonly<Record<string, string>>;
}

/**
 * Expands `{version}`, `{os}`, `{arch}` (the GOARCH name, or its `--arch-name` override),
 * `{arch:x64}` and `{arch:x86_64}` in a URI template. Any other `{...}` is a usage error naming
 * it, so a typo never reaches a server as a literal brace.
 */
export function expandTemplate(template: string, values: TemplateValues): string {
  const { architecture, os } = values.platform;
  return template.replace(/\{([^{}]*)\}/g, (whole, name: string) => {
    if (name === "version") return values.version;
    if (name === "os") return os;
    if (name === "arch") return values.archNames?.[architecture] ?? architecture;
    const spelling = /^arch:(.+)$/.exec(name)?.[1];
    if (spelling !== undefined && SPELLINGS[spelling] !== undefined) {
      return SPELLINGS[spelling][architecture] ?? architecture;
    }
    throw new PolypackError(
      "FLAG_INVALID",
      `the template ${JSON.stringify(template)} has the unknown placeholder ${whole}`,
      { hint: "use {version}, {os}, {arch}, {arch:x64} or {arch:x86_64}" },
    );
  });
}

/**
 * Parses `--arch-name amd64=x64` values into a map; an entry without `=` or with an empty side is a
 * usage error.
 */
export function parseArchNames(values: readonly string[]): Record<string, string> {
  const names: Record<string, string> = {};
  for (const value of values) {
    const [from, to, ...rest] = value.split("=");
    if (!from || !to || rest.length > 0) {
      throw new PolypackError("FLAG_INVALID", `--arch-name ${JSON.stringify(value)} is not NAME=SPELLING`, {
        hint: "write it as --arch-name amd64=x64",
      });
    }
    // Normalised, so that `x86_64=x64` means the same as `amd64=x64`.
    names[new Platform({ architecture: from.trim() }).architecture] = to.trim();
  }
  return names;
}
