import { PolypackError } from "../errors/index.js";

/** The JSON shape of a platform in an index entry or an image config. */
export interface PlatformJSON {
  architecture: string;
  os: string;
  "os.version"?: string;
  "os.features"?: string[];
  variant?: string;
  features?: string[];
}

const ARCH_ALIASES: Record<string, { architecture: string; variant?: string }> = {
  x86_64: { architecture: "amd64" },
  "x86-64": { architecture: "amd64" },
  x64: { architecture: "amd64" },
  amd64: { architecture: "amd64" },
  aarch64: { architecture: "arm64" },
  arm64: { architecture: "arm64" },
  armhf: { architecture: "arm", variant: "v7" },
  armv7: { architecture: "arm", variant: "v7" },
  armv7l: { architecture: "arm", variant: "v7" },
  armel: { architecture: "arm", variant: "v6" },
  armv6: { architecture: "arm", variant: "v6" },
  armv6l: { architecture: "arm", variant: "v6" },
  armv5: { architecture: "arm", variant: "v5" },
  i386: { architecture: "386" },
  i686: { architecture: "386" },
  x86: { architecture: "386" },
  ia32: { architecture: "386" },
  ppc64el: { architecture: "ppc64le" },
};

const OS_ALIASES: Record<string, string> = { macos: "darwin", win32: "windows" };
const TOKEN = /^[a-z0-9][a-z0-9._-]*$/;

/** The fields a Platform is built from; every one may be left out (empty means any when matching). */
export interface PlatformFields {
  os?: string | undefined;
  architecture?: string | undefined;
  variant?: string | undefined;
  osVersion?: string | undefined;
  osFeatures?: readonly string[] | undefined;
  features?: readonly string[] | undefined;
}

/**
 * An OCI platform as an immutable value: `os/arch[/variant]` plus the optional os.version,
 * os.features and features. Values are normalised on construction, so `linux/aarch64` and
 * `linux/arm64/v8` are equal to `linux/arm64`, and `linux/armhf` to `linux/arm/v7`. An empty field
 * means "any" when matching (see `satisfies`).
 */
export class Platform {
  /** Operating system, for example `linux`; empty means any. */
  readonly os: string;
  /** Architecture in GOARCH spelling, for example `arm64`; empty means any. */
  readonly architecture: string;
  /** CPU variant, for example `v7`; empty means none or any. */
  readonly variant: string;
  /** The `os.version` field; for buildpacks the distro version; empty means any. */
  readonly osVersion: string;
  /** The `os.features` field (for example `win32k`); order carries no meaning. */
  readonly osFeatures: readonly string[];
  /** The `features` field; order carries no meaning. */
  readonly features: readonly string[];

  constructor(fields: PlatformFields) {
    const os = (fields.os ?? "").toLowerCase();
    this.os = OS_ALIASES[os] ?? os;
    const arch = (fields.architecture ?? "").toLowerCase();
    const alias = ARCH_ALIASES[arch];
    this.architecture = alias?.architecture ?? arch;
    let variant = (fields.variant ?? "").toLowerCase() || alias?.variant || "";
    if (this.architecture === "arm64" && variant === "v8") variant = "";
    if (this.architecture === "arm" && variant === "" && arch === "arm") variant = "v7";
    if (this.architecture === "arm" && /^[5-8]$/.test(variant)) variant = `v${variant}`;
    this.variant = variant;
    this.osVersion = fields.osVersion ?? "";
    this.osFeatures = [...(fields.osFeatures ?? [])];
    this.features = [...(fields.features ?? [])];
  }

  /** Parses `os/arch[/variant]`, with aliases; `context` names the source for error messages. */
  static parse(value: string, context?: string): Platform {
    const parts = value.trim().split("/");
    const where = context ? ` (${context})` : "";
    const bad = (why: string): PolypackError =>
      new PolypackError("PLATFORM_INVALID", `invalid platform ${JSON.stringify(value)}${where}: ${why}`, {
        hint: "write a platform as os/arch[/variant], for example linux/amd64, linux/arm64 or linux/arm/v7",
      });
    if (parts.length < 2 || parts.length > 3) throw bad("expected os/arch or os/arch/variant");
    for (const part of parts) {
      if (!TOKEN.test(part.toLowerCase())) throw bad(`${JSON.stringify(part)} is not a valid field`);
    }
    const platform = new Platform({ os: parts[0], architecture: parts[1], variant: parts[2] });
    if (!KNOWN_OS.has(platform.os)) throw bad(`unknown operating system ${JSON.stringify(platform.os)}`);
    if (!KNOWN_ARCH.has(platform.architecture)) {
      throw bad(`unknown architecture ${JSON.stringify(platform.architecture)}`);
    }
    return platform;
  }

  /** Reads the platform of an index entry or image config. */
  static fromJSON(json: Partial<PlatformJSON>): Platform {
    return new Platform({
      os: json.os,
      architecture: json.architecture,
      variant: json.variant,
      osVersion: json["os.version"],
      osFeatures: json["os.features"],
      features: json.features,
    });
  }

  /** The platform Node.js is running on. */
  static host(): Platform {
    const arch = process.arch as string;
    let variant = "";
    if (arch === "arm") {
      const vars = process.config.variables as unknown as Record<string, unknown>;
      const armVersion = vars["arm_version"];
      variant = `v${typeof armVersion === "string" || typeof armVersion === "number" ? armVersion : 7}`;
    }
    return new Platform({ os: process.platform, architecture: arch, variant });
  }

  /** `os/arch[/variant]`. */
  toString(): string {
    return [this.os, this.architecture, this.variant].filter((part) => part !== "").join("/");
  }

  /** The JSON for an index entry or config, fields left out when empty. */
  toJSON(): PlatformJSON {
    return {
      architecture: this.architecture,
      os: this.os,
      ...(this.osVersion ? { "os.version": this.osVersion } : {}),
      ...(this.osFeatures.length > 0 ? { "os.features": [...this.osFeatures] } : {}),
      ...(this.variant ? { variant: this.variant } : {}),
      ...(this.features.length > 0 ? { features: [...this.features] } : {}),
    };
  }

  /** Value equality on every field (the feature lists compared as sets). */
  equals(other: Platform): boolean {
    return (
      this.os === other.os &&
      this.architecture === other.architecture &&
      this.variant === other.variant &&
      this.osVersion === other.osVersion &&
      sameSet(this.osFeatures, other.osFeatures) &&
      sameSet(this.features, other.features)
    );
  }

  /**
   * polypack's one platform-matching rule, go-containerregistry's `Platform.Satisfies`: whether
   * this platform meets what `wanted` asks for. A field `wanted` leaves empty matches anything; os,
   * architecture, variant and os.version must be equal where `wanted` names them, so a variant or
   * os.version counts only when asked for; every os.feature and feature `wanted` lists must be
   * present here (order ignored). Not symmetric: `linux/amd64` with os.version 22.04 satisfies
   * `linux/amd64`, which does not satisfy it.
   */
  satisfies(wanted: Platform): boolean {
    return meets(this, wanted);
  }

  /**
   * Whether two platforms, either of which may leave fields open, can describe the same machine:
   * one satisfies the other once the fields it leaves empty are ignored. So every field both name
   * must agree and an empty field on either side matches anything; for targets and dependencies,
   * each of which may say only part of a platform.
   */
  overlaps(other: Platform): boolean {
    return meets(this, narrowed(other, this)) || meets(other, narrowed(this, other));
  }

  /** A copy with some fields replaced. */
  with(fields: PlatformFields): Platform {
    return new Platform({
      os: fields.os ?? this.os,
      architecture: fields.architecture ?? this.architecture,
      variant: fields.variant ?? this.variant,
      osVersion: fields.osVersion ?? this.osVersion,
      osFeatures: fields.osFeatures ?? this.osFeatures,
      features: fields.features ?? this.features,
    });
  }
}

/** The fields matching looks at, as they are: no normalising, so an emptied field stays empty. */
type MatchFields = Pick<
  Platform,
  "os" | "architecture" | "variant" | "osVersion" | "osFeatures" | "features"
>;

/** The rule of `Platform.satisfies`, on plain fields. */
function meets(have: MatchFields, wanted: MatchFields): boolean {
  return (
    fieldSatisfies(wanted.os, have.os) &&
    fieldSatisfies(wanted.architecture, have.architecture) &&
    fieldSatisfies(wanted.variant, have.variant) &&
    fieldSatisfies(wanted.osVersion, have.osVersion) &&
    listSatisfies(wanted.osFeatures, have.osFeatures) &&
    listSatisfies(wanted.features, have.features)
  );
}

/** `wanted` asking only for what `have` names: the fields `have` leaves empty are emptied. */
function narrowed(wanted: MatchFields, have: MatchFields): MatchFields {
  return {
    os: have.os && wanted.os,
    architecture: have.architecture && wanted.architecture,
    variant: have.variant && wanted.variant,
    osVersion: have.osVersion && wanted.osVersion,
    osFeatures: have.osFeatures.length > 0 ? wanted.osFeatures : [],
    features: have.features.length > 0 ? wanted.features : [],
  };
}

function fieldSatisfies(want: string, have: string): boolean {
  return want === "" || want === have;
}

function listSatisfies(want: readonly string[], have: readonly string[]): boolean {
  return want.every((feature) => have.includes(feature));
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return listSatisfies(a, b) && listSatisfies(b, a);
}

/** Normalises one architecture name (x86_64 → amd64, aarch64 → arm64, ...); unknown names pass through. */
export function normalizeArchitecture(arch: string): { architecture: string; variant: string } {
  const platform = new Platform({ os: "linux", architecture: arch });
  return { architecture: platform.architecture, variant: platform.variant };
}

const KNOWN_OS = new Set([
  "linux",
  "windows",
  "darwin",
  "freebsd",
  "netbsd",
  "openbsd",
  "solaris",
  "illumos",
  "aix",
  "android",
  "ios",
  "plan9",
  "dragonfly",
  "js",
  "wasip1",
]);
const KNOWN_ARCH = new Set([
  "amd64",
  "arm64",
  "arm",
  "386",
  "ppc64le",
  "ppc64",
  "s390x",
  "riscv64",
  "mips64le",
  "mips64",
  "mipsle",
  "mips",
  "loong64",
  "wasm",
]);
