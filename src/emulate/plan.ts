import { parse, stringify } from "smol-toml";

/** One `[[provides]]` or `[[requires]]` of a detect plan. */
export interface PlanItem {
  name: string;
  metadata?: Record<string, unknown>;
}

/** One alternative of a detect plan: what the buildpack provides and requires. */
export interface PlanAlternative {
  provides: PlanItem[];
  requires: PlanItem[];
}

/** Reads the plan `bin/detect` wrote: the top-level alternative, then each `[[or]]`. */
export function parseDetectPlan(text: string, where: string): PlanAlternative[] {
  if (text.trim() === "") return [{ provides: [], requires: [] }];
  let document: Record<string, unknown>;
  try {
    document = parse(text);
  } catch (error) {
    throw new Error(`${where} is not valid TOML: ${(error as Error).message}`);
  }
  const alternatives = [alternative(document, where)];
  const ors = document["or"];
  if (Array.isArray(ors)) {
    for (const [i, or] of ors.entries())
      alternatives.push(alternative(asTable(or), `${where} [[or]] ${i + 1}`));
  }
  return alternatives;
}

function alternative(table: Record<string, unknown>, where: string): PlanAlternative {
  return {
    provides: items(table["provides"], where, "provides"),
    requires: items(table["requires"], where, "requires"),
  };
}

function items(value: unknown, where: string, key: string): PlanItem[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error(`${where}: ${key} is not an array of tables`);
  return value.map((entry, i) => {
    const table = asTable(entry);
    if (typeof table["name"] !== "string" || table["name"] === "") {
      throw new Error(`${where}: ${key} ${i + 1} has no name`);
    }
    const metadata = table["metadata"];
    return {
      name: table["name"],
      ...(typeof metadata === "object" && metadata !== null && !Array.isArray(metadata)
        ? { metadata: metadata as Record<string, unknown> }
        : {}),
    };
  });
}

function asTable(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** A buildpack of a group whose detect passed, with what its plan offers. */
export interface Detected {
  key: string;
  optional: boolean;
  alternatives: PlanAlternative[];
}

/** The outcome of resolving a group's plans. */
export type Resolution =
  | {
      ok: true;
      /** The buildpacks that take part, in order, each with the entries of its buildpack plan. */
      buildpacks: { key: string; entries: PlanItem[] }[];
    }
  | { ok: false; reason: string };

// Past this many combinations of [[or]] alternatives the lifecycle's search is not worth copying.
const MAX_TRIALS = 4096;

/**
 * Resolves the plans of a group's passing buildpacks as the lifecycle does: combinations of
 * alternatives are tried in order (each buildpack's own first, then its `[[or]]`s); in a trial,
 * every requirement must be provided by the same or an earlier buildpack and everything provided
 * must be required by the same or a later one. A buildpack that breaks that is dropped when it is
 * optional; otherwise the trial fails. The first trial that keeps a buildpack wins; each provider's
 * plan gets the requirements it meets, with their metadata.
 */
export function resolvePlans(group: readonly Detected[]): Resolution {
  if (group.length === 0) return { ok: false, reason: "no buildpack passed detection" };
  let reason = "";
  let trials = 0;
  for (const choice of combinations(group.map((bp) => bp.alternatives.length))) {
    if (++trials > MAX_TRIALS) break;
    const trial = runTrial(group, choice);
    if (trial.ok) return trial;
    reason ||= trial.reason;
  }
  return { ok: false, reason };
}

function runTrial(group: readonly Detected[], choice: readonly number[]): Resolution {
  let members = group.map((bp, i) => ({ bp, alt: bp.alternatives[choice[i]!]! }));
  // Dropping an optional buildpack can break another's match, so check again until stable.
  for (;;) {
    const broken = members.findIndex(
      (_, i) =>
        unmet(
          members.map((m) => m.alt),
          i,
        ) !== undefined,
    );
    if (broken < 0) break;
    const member = members[broken]!;
    if (!member.bp.optional) {
      return {
        ok: false,
        reason: `${member.bp.key}: ${unmet(
          members.map((m) => m.alt),
          broken,
        )!}`,
      };
    }
    members = members.filter((_, i) => i !== broken);
  }
  if (members.length === 0) return { ok: false, reason: "every buildpack was optional and dropped" };
  const alts = members.map((m) => m.alt);
  return {
    ok: true,
    buildpacks: members.map((member, i) => ({
      key: member.bp.key,
      entries: member.alt.provides.flatMap((provided) =>
        alts
          .slice(i)
          .flatMap((alt) => alt.requires.filter((required) => required.name === provided.name))
          .filter((item, j, all) => all.indexOf(item) === j),
      ),
    })),
  };
}

// Why buildpack i's plan is not met in this trial, or undefined when it is.
function unmet(alts: readonly PlanAlternative[], i: number): string | undefined {
  const alt = alts[i]!;
  for (const required of alt.requires) {
    if (!alts.slice(0, i + 1).some((a) => a.provides.some((p) => p.name === required.name))) {
      return `requires ${required.name}, which no buildpack before it (or itself) provides`;
    }
  }
  for (const provided of alt.provides) {
    if (!alts.slice(i).some((a) => a.requires.some((r) => r.name === provided.name))) {
      return `provides ${provided.name}, which no buildpack after it (or itself) requires`;
    }
  }
  return undefined;
}

// Every choice of one index below each count, the first buildpack's choice changing slowest.
function* combinations(counts: readonly number[]): Generator<number[]> {
  const choice = counts.map(() => 0);
  for (;;) {
    yield [...choice];
    let i = counts.length - 1;
    while (i >= 0 && choice[i]! + 1 >= counts[i]!) {
      choice[i] = 0;
      i--;
    }
    if (i < 0) return;
    choice[i]!++;
  }
}

/** The buildpack plan file (`[[entries]]` with name and metadata) handed to `bin/build`. */
export function buildpackPlanToml(entries: readonly PlanItem[]): string {
  return stringify({ entries: entries.map((entry) => ({ ...entry })) });
}
