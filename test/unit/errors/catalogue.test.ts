import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import {
  CATALOGUE,
  exitStatus,
  isErrorCode,
  isInternal,
  PolypackError,
  type ErrorCode,
} from "../../../src/errors/index.js";
import { catalogueRow, documentedRows, ERRORS_DOC, REPO_ROOT } from "../../support/errors-doc.js";

const CODES = Object.keys(CATALOGUE) as ErrorCode[];

// Upper-case names with an error code's ending that belong to other programs: OpenSSL's
// certificate checks, the registry API, and a local constant. Anything else with such an ending
// must be a code of the catalogue.
const FOREIGN_NAMES = new Set([
  "CERT_UNTRUSTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "HOSTNAME_MISMATCH",
  "NOT_FOUND",
  "PATH_LENGTH_EXCEEDED",
  "SIZE_INVALID",
]);

// The endings of error codes: those of the catalogue's codes, and LARGE and EMPTY of retired ones
// ("_PATH" and "_FILE" end many constant names too, so they do not count).
const CODE_ENDINGS = new Set([
  ...CODES.filter((code) => code.includes("_"))
    .map((code) => code.slice(code.lastIndexOf("_") + 1))
    .filter((ending) => ending !== "PATH" && ending !== "FILE"),
  "LARGE",
  "EMPTY",
]);

/** The old codes of the Renamed codes table that are no longer codes. */
function retiredCodes(page: string): Set<string> {
  const renamed = page.slice(page.indexOf("## Renamed codes"));
  const old = [...renamed.matchAll(/^\|\s*`([A-Z0-9_]+)`/gm)].map((match) => match[1]!);
  return new Set(old.filter((code) => !isErrorCode(code)));
}

test("docs/errors.md documents every code of the catalogue, and only those, as the catalogue says", async () => {
  const rows = documentedRows(await readFile(ERRORS_DOC, "utf8"));
  const documented = rows.map((row) => row[0]?.replace(/`/g, "") ?? "");
  const missing = CODES.filter((code) => !documented.includes(code));
  const stale = documented.filter((code) => !isErrorCode(code));
  assert.deepEqual(missing, [], "codes without a row; run scripts/errors-doc.sh");
  assert.deepEqual(stale, [], "rows for codes the catalogue lacks; run scripts/errors-doc.sh");
  for (const row of rows) {
    const code = row[0]!.replace(/`/g, "") as ErrorCode;
    assert.deepEqual(row, catalogueRow(code), `the row of ${code} differs; run scripts/errors-doc.sh`);
  }
  assert.equal(rows.length, CODES.length, "each code has one row");
});

test("every code renamed in docs/errors.md points at a code of the catalogue", async () => {
  const page = await readFile(ERRORS_DOC, "utf8");
  const renamed = page.slice(page.indexOf("## Renamed codes"));
  const targets = [...renamed.matchAll(/^\|[^|]+\|\s*`([A-Z0-9_]+)`\s*\|/gm)].map((match) => match[1]!);
  assert.ok(targets.length > 0, "the Renamed codes table has rows");
  assert.deepEqual(
    targets.filter((code) => !isErrorCode(code)),
    [],
  );
});

test("sources, tests and docs name only codes of the catalogue", async () => {
  // The CHANGELOG, the Renamed codes table and this file name old codes on purpose.
  const files = execFileSync(
    "git",
    [
      "ls-files",
      "--cached",
      "--others",
      "--exclude-standard",
      "*.md",
      "src/**.ts",
      "test/**.ts",
      "bench/**.ts",
      "scripts/*",
      ":!CHANGELOG.md",
    ],
    { cwd: REPO_ROOT, encoding: "utf8" },
  )
    .split("\n")
    // Files being written count too (--others); files deleted but not yet staged do not.
    .filter((file) => file !== "" && file !== "test/unit/errors/catalogue.test.ts")
    .filter((file) => existsSync(join(REPO_ROOT, file)));
  assert.ok(files.length > 100, `git ls-files found ${files.length} files`);
  const retired = retiredCodes(await readFile(ERRORS_DOC, "utf8"));
  assert.ok(retired.has("BLOB_TOO_LARGE"), "the Renamed codes table lists BLOB_TOO_LARGE");
  const unknown: string[] = [];
  for (const file of files) {
    let text = await readFile(join(REPO_ROOT, file), "utf8");
    if (file === "docs/errors.md") text = text.slice(0, text.indexOf("## Renamed codes"));
    for (const [token] of text.matchAll(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g)) {
      const ending = token.slice(token.lastIndexOf("_") + 1);
      const codeLike = CODE_ENDINGS.has(ending) || retired.has(token);
      if (!codeLike || isErrorCode(token) || FOREIGN_NAMES.has(token)) continue;
      unknown.push(`${file}: ${token}`);
    }
    for (const [, token] of text.matchAll(/error\\?\[([A-Z][A-Z0-9_]*)\\?\]/g)) {
      if (token !== "CODE" && !isErrorCode(token!)) unknown.push(`${file}: error[${token}]`);
    }
  }
  assert.deepEqual(unknown, [], "codes that are not in src/errors/catalogue.ts");
});

test("codes are upper-case; internal codes, and only they, exit 70; every code has a meaning and a hint", () => {
  for (const code of CODES) {
    const entry = CATALOGUE[code];
    assert.match(code, /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/, code);
    assert.equal(isInternal(code), entry.exit === 70, code);
    assert.ok(entry.meaning.length > 10 && entry.hint.length > 10, code);
  }
});

test("the exit status comes from the catalogue: 1 user, 2 usage, 70 internal, 128 + signal", () => {
  assert.equal(exitStatus("REGISTRY_NOT_FOUND"), 1);
  assert.equal(exitStatus("FLAGS_CONFLICT"), 2);
  assert.equal(exitStatus("INTERNAL"), 70);
  assert.equal(exitStatus("DEPENDENCY_NOT_DOWNLOADED"), 70);
  assert.equal(exitStatus("INTERRUPTED"), 130);
  assert.equal(exitStatus("INTERRUPTED", "SIGTERM"), 143);
});

test("a thrower's hint wins; without one the catalogue's hint for the code is used", () => {
  assert.equal(new PolypackError("PATH_NOT_FOUND", "x is missing").hint, CATALOGUE.PATH_NOT_FOUND.hint);
  assert.equal(new PolypackError("PATH_NOT_FOUND", "x is missing", { hint: "look in y" }).hint, "look in y");
  assert.deepEqual(new PolypackError("PATH_NOT_FOUND", "x is missing").toJSON(), {
    code: "PATH_NOT_FOUND",
    message: "x is missing",
    hint: CATALOGUE.PATH_NOT_FOUND.hint,
  });
});

test("temporary is a field of every PolypackError, false unless the thrower says so", () => {
  assert.equal(new PolypackError("DEPENDENCY_TRUNCATED", "cut short").temporary, false);
  assert.equal(new PolypackError("DEPENDENCY_TRUNCATED", "cut short", { temporary: true }).temporary, true);
});

test("an unknown code does not compile", () => {
  // Never called: the point is the type check. If the code parameter were a plain string, the
  // directive below would be unused and the build would fail.
  const unknownCode = (): PolypackError =>
    // @ts-expect-error NO_SUCH_CODE is not in the catalogue.
    new PolypackError("NO_SUCH_CODE", "a code nobody documented");
  assert.equal(typeof unknownCode, "function");
});
