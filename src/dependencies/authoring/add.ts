import { parseDependencies, type Dependency } from "../../buildpack/dependencies.js";
import { dependencyMatchesTarget } from "../../buildpack/dependencies-filter.js";
import type { TomlTable } from "../../buildpack/toml-document.js";
import { PolypackError } from "../../errors/index.js";
import {
  applyChanges,
  compareVersions,
  freshTable,
  templateChanges,
  templateEntry,
  writeDialect,
  type Addition,
} from "./new-entry.js";
import { checkEdit, DependencyText, parseEntryLines, type Insertion } from "./toml-edit.js";

/** What `addEntries` did: the new text, the entries it added and those already there. */
export interface AddOutcome {
  text: string;
  added: Addition[];
  /** Already in the file with the same checksum: nothing to do (a re-run is harmless). */
  unchanged: Addition[];
}

/**
 * Adds one `[[metadata.dependencies]]` entry per addition to buildpack.toml text, in the file's own
 * dialect, copying the newest entry of the same id (see `templateChanges`), placed after the last
 * entry of that id with a version not above it. Each edit is read back and checked: the rest of the
 * document unchanged, the new entry exactly the table meant, and it applies to its target. An entry
 * already present with another checksum is DEPENDENCY_ENTRY_CONFLICT.
 */
export function addEntries(text: string, file: string, additions: readonly Addition[]): AddOutcome {
  const outcome: AddOutcome = { text, added: [], unchanged: [] };
  for (const addition of additions) {
    const dependencies = parseDependencies(outcome.text, { file });
    const present = dependencies.find((d) => samePlace(d, addition));
    if (present !== undefined) {
      if (present.checksum?.algorithm === "sha256" && present.checksum.hex === addition.sha256) {
        outcome.unchanged.push(addition);
        continue;
      }
      throw new PolypackError(
        "DEPENDENCY_ENTRY_CONFLICT",
        `${file} [[metadata.dependencies]][${present.index}] already has ${addition.id} ${addition.version} for ${addition.platform.toString()} with checksum ${present.checksum?.toString() ?? "(none)"}, but ${addition.uri} has sha256:${addition.sha256}`,
      );
    }
    const document = new DependencyText(outcome.text, file);
    const template = templateEntry(dependencies, addition.id, addition.platform);
    const dialect = writeDialect(dependencies, template);
    let lines: string[];
    let expected: TomlTable;
    if (template !== undefined) {
      const changes = templateChanges(template, addition, dialect);
      lines = document.copyEntry(template.index, changes);
      expected = applyChanges(document.entry(template.index), changes);
    } else {
      expected = freshTable(addition, dialect);
      lines = document.freshEntry(expected);
    }
    const written = parseEntryLines(lines, file);
    const edited = document.edit(new Set(), [{ lines, ...placeFor(dependencies, addition) }]);
    checkEdit(document, edited, new Set(), [expected]);
    checkEdit(document, edited, new Set(), [written]);
    assertApplies(edited, file, addition);
    outcome.text = edited;
    outcome.added.push(addition);
  }
  return outcome;
}

/** Whether an entry is for the same id, version and platform as an addition. */
export function samePlace(d: Dependency, addition: Addition): boolean {
  return (
    d.id === addition.id &&
    d.version === addition.version &&
    (d.os === "" || d.os === addition.platform.os) &&
    d.architecture === addition.platform.architecture
  );
}

/** After the last entry of the id whose version is not above the new one; else before the first. */
export function placeFor(
  dependencies: readonly Dependency[],
  addition: Pick<Addition, "id" | "version">,
): Omit<Insertion, "lines"> {
  const ofId = dependencies.filter((d) => d.id === addition.id);
  const notAbove = ofId.filter((d) => compareVersions(d.version, addition.version) <= 0);
  const after =
    notAbove[notAbove.length - 1] ?? (ofId.length === 0 ? dependencies[dependencies.length - 1] : undefined);
  if (after !== undefined) return { after: after.index };
  const before = ofId[0];
  return before === undefined ? {} : { before: before.index };
}

/** The new entry, read as polypack reads dependencies, must go to its target with its checksum. */
function assertApplies(text: string, file: string, addition: Addition): void {
  const found = parseDependencies(text, { file }).some(
    (d) =>
      samePlace(d, addition) &&
      d.checksum?.hex === addition.sha256 &&
      dependencyMatchesTarget(d, addition.platform),
  );
  if (!found) {
    throw new PolypackError(
      "DEPENDENCY_EDIT_UNSUPPORTED",
      `${file}: the entry for ${addition.id} ${addition.version} would not read back as one for ${addition.platform.toString()} (does the copied entry name its architecture in two ways?); the file was not changed`,
    );
  }
}
