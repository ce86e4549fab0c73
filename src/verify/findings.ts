/** What a finding is about. */
export type FindingCheck =
  /** A program in a layer is built for another machine. */
  | "program"
  /** A program inside a dependency archive (in a layer, or downloaded) is built for another machine. */
  | "dependency"
  /** An index entry, config or label disagrees with another, or cannot be read. */
  | "metadata"
  /** A layer could not be read to its end, or does not match its digest. */
  | "layer";

/** One thing wrong (or accepted by `--allow`) in one platform's image. */
export interface Finding {
  /** The platform of the image, `os/arch[/variant]`; the root's name for index-wide findings. */
  platform: string;
  check: FindingCheck;
  /** The file (path in the image; `archive!member` inside archives), dependency, label or layer. */
  subject: string;
  expected: string;
  found: string;
  /** The `--allow` pattern that accepts this finding; such findings do not fail the run. */
  allowed?: string;
}

/** How each platform fared. */
export interface PlatformSummary {
  platform: string;
  /** The image manifest's digest. */
  digest: string;
  layers: number;
  /** Regular files read in the layers (members of archives not counted). */
  files: number;
  /** ELF, Mach-O and PE files among them, archives' members included. */
  programs: number;
  /** Dependencies downloaded and checked (`--dependencies`). */
  dependencies: number;
}

/** The result of verifying an image, index, builder or `.cnb`. */
export interface VerifyReport {
  /** What was verified, as the user named it. */
  name: string;
  digest: string;
  /** True when no finding is left that `--allow` did not accept. */
  ok: boolean;
  platforms: PlatformSummary[];
  findings: Finding[];
  /** Checks that were not run, and why (for example dependencies not fetched without --dependencies). */
  notes: string[];
}

/**
 * A matcher for `--allow` patterns: `*` matches within one path segment, `**` across segments, `?`
 * one character; a leading `/` is ignored (image paths are matched without one). A pattern
 * without `/` matches the file's name in any folder.
 */
export function allowMatcher(patterns: readonly string[]): (path: string) => string | undefined {
  const compiled = patterns.map((pattern) => ({ pattern, regex: globRegExp(pattern) }));
  return (path) => {
    const clean = path.replace(/^\/+/, "");
    const name = clean.slice(clean.lastIndexOf("/") + 1);
    for (const { pattern, regex } of compiled) {
      const bare = !pattern.replace(/^\/+/, "").includes("/");
      if (regex.test(clean) || (bare && regex.test(name))) return pattern;
    }
    return undefined;
  };
}

function globRegExp(pattern: string): RegExp {
  const body = pattern.replace(/^\/+/, "");
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === "*" && body[i + 1] === "*") {
      // `**/` matches zero or more whole segments; a trailing or inner `**` anything.
      if (body[i + 2] === "/") {
        out += "(?:.*/)?";
        i += 2;
      } else {
        out += ".*";
        i += 1;
      }
    } else if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else out += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${out}$`);
}
