import { cp, mkdir, open, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Image } from "../image/image.js";
import type { Platform } from "../oci/platform.js";
import { escapeId } from "../package/plan.js";
import { forgetScratchDir, makeScratchDir } from "../util/scratch-dir.js";
import { classifyProgram, describeProgram, PROGRAM_HEADER_BYTES } from "../verify/elf.js";
import type { Emulation } from "./emulator.js";
import { inspectLayers, type LayersReport } from "./inspect-layers.js";
import { resolveInside } from "./inside.js";
import {
  buildInvocation,
  detectInvocation,
  type Distro,
  type Invocation,
  type RunPaths,
} from "./invocation.js";
import { buildpackPlanToml, parseDetectPlan, resolvePlans, type Detected, type PlanItem } from "./plan.js";
import { runProcess, type ProcessOutcome } from "./run-process.js";
import { applyLayers, removeTree } from "./rootfs.js";
import type { GroupMember, RunOrder } from "./source.js";

/** One run of `bin/detect` or `bin/build`. */
export interface StepReport {
  buildpack: string;
  /** pass, fail (detect's 100) or error (any other exit, a signal, a timeout). */
  outcome: "pass" | "fail" | "error";
  /** What the program that ran is (`ELF 64-bit LSB arm64`, `script (/bin/sh)`), as verify/elf.ts tells. */
  program: string;
  exitCode: number | null;
  signal?: string;
  timedOut: boolean;
  ms: number;
  stdout: string;
  stderr: string;
}

/** One order group's detection. */
export interface GroupReport {
  buildpacks: string[];
  detect: StepReport[];
  passed: boolean;
  /** Why it did not pass. */
  reason?: string;
  /** The build plan each passing buildpack gets (provides met by requires). */
  plan?: { buildpack: string; entries: PlanItem[] }[];
}

/** One `bin/build` run and what it left in its layers folder. */
export interface BuildReport extends StepReport {
  layers?: LayersReport;
}

/** Everything one target's run found. */
export interface TargetReport {
  platform: string;
  /** native (no root filesystem), proot, or proot with the named qemu. */
  emulation: string;
  /** The build image (or builder) whose root filesystem the programs ran in, by digest. */
  rootfs?: { image: string; reused: boolean };
  distro?: Distro;
  passed: boolean;
  /** The first reason the target failed. */
  failure?: string;
  groups: GroupReport[];
  builds: BuildReport[];
  /** Where the layers were kept (`--layers`). */
  layersKept?: string;
  ms: number;
}

/** What one target's run needs; the root filesystem is already made (or absent). */
export interface TargetRun {
  platform: Platform;
  /** The buildpack package's image for this platform (its layers hold /cnb/buildpacks). */
  image: Image;
  order: RunOrder;
  emulation: Emulation;
  /** The root filesystem on the host, for proot; absent runs in an empty root. */
  rootfs?: {
    path: string;
    image: string;
    reused: boolean;
    env: string[];
    user?: { uid: number; gid: number };
  };
  /** Whether the buildpacks are already inside the root filesystem (a builder). */
  buildpacksInRootfs: boolean;
  distro?: Distro;
  appDir?: string;
  env: Record<string, string>;
  keepLayers?: string;
  timeoutMs: number;
  onStep?: (what: string) => void;
}

const GUEST = {
  buildpacks: "/cnb/buildpacks",
  app: "/workspace",
  platform: "/platform",
  layers: "/layers",
  tmp: "/tmp",
};

/**
 * Runs one target: the buildpacks laid out, the app copied, detect for each group of the order
 * until one passes and its plans resolve, then build for each of its buildpacks, each build's
 * layers read and checked for programs of the wrong architecture. Never throws for what the
 * buildpacks do; the report says. The scratch folder is removed (after copying the layers to
 * `keepLayers` when asked).
 */
export async function runTarget(run: TargetRun): Promise<TargetReport> {
  const started = Date.now();
  const scratch = await makeScratchDir("polypack-test-run-");
  const report: TargetReport = {
    platform: run.platform.toString(),
    emulation:
      run.emulation.kind === "direct"
        ? "native, host paths (no proot)"
        : run.emulation.hostRoot
          ? "native"
          : run.emulation.qemu
            ? `proot + ${run.emulation.qemu.split("/").pop() ?? ""}`
            : "proot",
    ...(run.rootfs ? { rootfs: { image: run.rootfs.image, reused: run.rootfs.reused } } : {}),
    ...(run.distro ? { distro: run.distro } : {}),
    passed: false,
    groups: [],
    builds: [],
    ms: 0,
  };
  try {
    const host = await layOut(run, scratch);
    const direct = run.emulation.kind === "direct";
    const guest = direct
      ? {
          buildpacks: host.buildpacks,
          app: host.app,
          platform: host.platform,
          layers: host.layers,
          tmp: host.tmp,
        }
      : GUEST;
    const paths = (member: GroupMember): RunPaths => ({
      buildpackDir: `${guest.buildpacks}/${escapeId(member.id)}/${member.version}`,
      appDir: guest.app,
      platformDir: guest.platform,
      layersDir: `${guest.layers}/${escapeId(member.id)}`,
      detectPlanPath: `${guest.tmp}/plans/${escapeId(member.id)}/detect.toml`,
      buildPlanPath: `${guest.tmp}/plans/${escapeId(member.id)}/plan.toml`,
    });
    const hostPlan = (member: GroupMember, file: string): string =>
      join(host.tmp, "plans", escapeId(member.id), file);
    const execute = async (
      member: GroupMember,
      invocation: Invocation,
      detect: boolean,
    ): Promise<StepReport> => {
      const program = await describeFile(
        host.buildpacks,
        `${escapeId(member.id)}/${member.version}/bin/${detect ? "detect" : "build"}`,
      );
      const outcome = await runProcess(...command(run, host, invocation, baseEnv(run, member)), {
        cwd: direct ? host.app : scratch,
        env: { ...baseEnv(run, member), ...invocation.env },
        timeoutMs: run.timeoutMs,
      });
      const step = stepReport(key(member), program, outcome, detect);
      if (step.outcome === "error" && !run.rootfs && !onHostRoot(run) && program.startsWith("script")) {
        step.stderr += `polypack: ${program} needs its interpreter, and without --build-image the root holds only the buildpack, the app and the layers; give --build-image\n`;
        interpreterMissing.add(step);
      }
      return step;
    };
    // Steps that failed for want of an interpreter: the failure line says so, not only their stderr
    // (where proot's own messages come first), since that is what the user must change.
    const interpreterMissing = new Set<StepReport>();
    const why = (step: StepReport): string =>
      interpreterMissing.has(step) ? " (a script needs its interpreter: give --build-image)" : "";

    let chosen: { member: GroupMember; entries: PlanItem[] }[] | undefined;
    for (const group of run.order.groups) {
      const groupReport: GroupReport = { buildpacks: group.map(key), detect: [], passed: false };
      report.groups.push(groupReport);
      const detected: Detected[] = [];
      let broken: string | undefined;
      for (const member of group) {
        await mkdir(dirname(hostPlan(member, "detect.toml")), { recursive: true });
        await writeFile(hostPlan(member, "detect.toml"), "");
        run.onStep?.(`${report.platform}: detect ${key(member)}`);
        const step = await execute(
          member,
          detectInvocation(member.api, paths(member), run.platform, run.distro),
          true,
        );
        groupReport.detect.push(step);
        if (step.outcome === "pass") {
          try {
            const text = await readFile(hostPlan(member, "detect.toml"), "utf8");
            detected.push({
              key: key(member),
              optional: member.optional,
              alternatives: parseDetectPlan(text, `${key(member)} build plan`),
            });
          } catch (error) {
            broken ??= `${key(member)}: ${(error as Error).message}`;
          }
        } else if (!member.optional) {
          broken ??= `${key(member)} detect ${step.outcome === "fail" ? "failed (exit 100)" : describeExit(step)}${why(step)}`;
        }
      }
      if (broken !== undefined) {
        groupReport.reason = broken;
        continue;
      }
      const resolution = resolvePlans(detected);
      if (!resolution.ok) {
        groupReport.reason = resolution.reason;
        continue;
      }
      groupReport.passed = true;
      groupReport.plan = resolution.buildpacks.map((bp) => ({ buildpack: bp.key, entries: bp.entries }));
      chosen = resolution.buildpacks.map((bp) => ({
        member: group.find((m) => key(m) === bp.key)!,
        entries: bp.entries,
      }));
      break;
    }
    if (chosen === undefined) {
      report.failure = `no group passed detection${report.groups.length === 1 && report.groups[0]!.reason ? `: ${report.groups[0]!.reason}` : ""}`;
      return report;
    }
    for (const { member, entries } of chosen) {
      await writeFile(hostPlan(member, "plan.toml"), buildpackPlanToml(entries));
      await mkdir(join(host.layers, escapeId(member.id)), { recursive: true });
      run.onStep?.(`${report.platform}: build ${key(member)}`);
      const build: BuildReport = await execute(
        member,
        buildInvocation(member.api, paths(member), run.platform, run.distro),
        false,
      );
      report.builds.push(build);
      build.layers = await inspectLayers(
        join(host.layers, escapeId(member.id)),
        `/layers/${escapeId(member.id)}`,
        member.api,
        run.platform,
      );
      if (build.outcome !== "pass") {
        report.failure ??= `${key(member)} build ${describeExit(build)}${why(build)}`;
        break;
      }
      const problem = build.layers.problems[0];
      if (problem !== undefined) {
        report.failure ??= `${key(member)} build wrote ${problem.path}, ${problem.found}, which does not run on ${report.platform}`;
      }
    }
    report.passed = report.failure === undefined;
    if (run.keepLayers !== undefined) {
      await removeTree(run.keepLayers);
      await mkdir(dirname(run.keepLayers), { recursive: true });
      await cp(host.layers, run.keepLayers, { recursive: true, verbatimSymlinks: true });
      report.layersKept = run.keepLayers;
    }
    return report;
  } finally {
    report.ms = Date.now() - started;
    try {
      await removeTree(scratch);
    } finally {
      forgetScratchDir(scratch);
    }
  }
}

interface HostDirs {
  /** The empty root used when there is no root filesystem. */
  root: string;
  buildpacks: string;
  app: string;
  platform: string;
  layers: string;
  tmp: string;
}

// The host folders the buildpack sees: the package's layers applied to an empty folder (the
// buildpacks), a copy of the app, the platform folder with env/, an empty layers folder and /tmp.
async function layOut(run: TargetRun, scratch: string): Promise<HostDirs> {
  const dirs: HostDirs = {
    root: join(scratch, "root"),
    buildpacks: join(scratch, "package", "cnb", "buildpacks"),
    app: join(scratch, "workspace"),
    platform: join(scratch, "platform"),
    layers: join(scratch, "layers"),
    tmp: join(scratch, "tmp"),
  };
  if (run.buildpacksInRootfs && run.rootfs) {
    dirs.buildpacks = await resolveInside(run.rootfs.path, GUEST.buildpacks, { followLast: true });
  } else {
    await mkdir(join(scratch, "package"));
    await applyLayers(run.image, join(scratch, "package"));
    await mkdir(dirs.buildpacks, { recursive: true });
  }
  if (run.appDir !== undefined) {
    // A copy: the buildpack may write into /workspace, the user's folder is never touched.
    await cp(run.appDir, dirs.app, { recursive: true, verbatimSymlinks: true });
  } else {
    await mkdir(dirs.app);
  }
  await mkdir(join(dirs.platform, "env"), { recursive: true });
  for (const [name, value] of Object.entries(run.env))
    await writeFile(join(dirs.platform, "env", name), value);
  await mkdir(dirs.layers);
  await mkdir(dirs.tmp, { mode: 0o1777 });
  await mkdir(dirs.root);
  return dirs;
}

// Whether the programs run in this machine's own root (natively, without a build image).
function onHostRoot(run: TargetRun): boolean {
  return run.emulation.kind === "direct" || run.emulation.hostRoot === true;
}

// The environment every program starts with: the root image's own (or, natively without one,
// this machine's PATH), then the user's variables unless the buildpack asks for a clear env.
function baseEnv(run: TargetRun, member: GroupMember): Record<string, string> {
  const env: Record<string, string> = {};
  if (run.rootfs) {
    for (const line of run.rootfs.env) {
      const eq = line.indexOf("=");
      if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  const hostRoot = onHostRoot(run);
  env["PATH"] ??= hostRoot ? (process.env["PATH"] ?? "/usr/bin:/bin") : "/usr/local/bin:/usr/bin:/bin";
  if (hostRoot && process.env["HOME"]) env["HOME"] ??= process.env["HOME"];
  if (!run.order.clearEnv.has(key(member))) Object.assign(env, run.env);
  return env;
}

// The program and arguments: the buildpack's own program when there is no proot, else proot (with
// qemu for a foreign architecture) in the root filesystem (this machine's own for a native target
// without a build image), the run's folders bound where the lifecycle has them.
function command(
  run: TargetRun,
  host: HostDirs,
  invocation: Invocation,
  env: Record<string, string>,
): [string, string[]] {
  if (run.emulation.kind === "direct") return [invocation.program, invocation.args];
  const root = run.emulation.hostRoot ? "/" : (run.rootfs?.path ?? host.root);
  const binds = [
    ...(run.buildpacksInRootfs ? [] : [`${host.buildpacks}:${GUEST.buildpacks}`]),
    `${host.app}:${GUEST.app}`,
    `${host.platform}:${GUEST.platform}`,
    `${host.layers}:${GUEST.layers}`,
    `${host.tmp}:${GUEST.tmp}`,
    // This machine's root has its own /dev and /proc.
    ...(run.emulation.hostRoot ? [] : ["/dev", "/proc"]),
  ];
  const user = run.rootfs?.user ?? cnbUser(env);
  return [
    run.emulation.proot,
    [
      ...(run.emulation.qemu ? ["-q", run.emulation.qemu] : []),
      ...(user ? ["-i", `${user.uid}:${user.gid}`] : []),
      "-r",
      root,
      ...binds.flatMap((bind) => ["-b", bind]),
      "-w",
      invocation.cwd,
      invocation.program,
      ...invocation.args,
    ],
  ];
}

function cnbUser(env: Record<string, string>): { uid: number; gid: number } | undefined {
  const uid = Number(env["CNB_USER_ID"]);
  const gid = Number(env["CNB_GROUP_ID"]);
  return Number.isInteger(uid) && Number.isInteger(gid) && env["CNB_USER_ID"] && env["CNB_GROUP_ID"]
    ? { uid, gid }
    : undefined;
}

function key(member: GroupMember): string {
  return `${member.id}@${member.version}`;
}

// What a buildpack program is, read from its first bytes (links followed inside the buildpacks folder).
async function describeFile(root: string, path: string): Promise<string> {
  try {
    const handle = await open(await resolveInside(root, path, { followLast: true }), "r");
    try {
      const head = Buffer.alloc(PROGRAM_HEADER_BYTES);
      const { bytesRead } = await handle.read(head, 0, PROGRAM_HEADER_BYTES, 0);
      return describeProgram(classifyProgram(head.subarray(0, bytesRead)));
    } finally {
      await handle.close();
    }
  } catch (error) {
    return `unreadable (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
}

function stepReport(
  buildpack: string,
  program: string,
  outcome: ProcessOutcome,
  detect: boolean,
): StepReport {
  const result: StepReport["outcome"] =
    !outcome.timedOut && outcome.code === 0
      ? "pass"
      : detect && !outcome.timedOut && outcome.code === 100
        ? "fail"
        : "error";
  return {
    buildpack,
    outcome: result,
    program,
    exitCode: outcome.code,
    ...(outcome.signal ? { signal: outcome.signal } : {}),
    timedOut: outcome.timedOut,
    ms: outcome.ms,
    stdout: outcome.stdout,
    stderr: outcome.stderr,
  };
}

function describeExit(step: StepReport): string {
  if (step.timedOut) return `timed out after ${Math.round(step.ms / 1000)} s and was stopped`;
  if (step.signal) return `was killed by ${step.signal}`;
  return `exited with code ${step.exitCode ?? "none"}`;
}
