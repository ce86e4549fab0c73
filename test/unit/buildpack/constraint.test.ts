import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import semver from "semver";
import { isPolypackError } from "../../../src/errors/index.js";
import {
  coerceVersion,
  mastermindsToSemverRange,
  packitConstraint,
  parseConstraint,
} from "../../../src/buildpack/constraint.js";

const MATCHES: [string, string[], string[]][] = [
  ["1.25.*", ["1.25.0", "1.25.14"], ["1.26.0", "1.24.9", "1.25.1-rc.1"]],
  ["24.*.*", ["24.0.0", "24.18.1"], ["25.0.0", "23.9.9"]],
  [">= 1.2, < 2", ["1.2.0", "1.9.9"], ["1.1.9", "2.0.0"]],
  [">=1.2 <2", ["1.5.0"], ["2.0.0"]],
  ["^20 || ^22", ["20.1.0", "22.0.0"], ["21.0.0", "23.0.0"]],
  ["~1.2.3", ["1.2.3", "1.2.9"], ["1.3.0", "1.2.2"]],
  ["~> 1.2", ["1.2.0", "1.2.9"], ["1.3.0"]],
  ["!= 1.2.3", ["1.2.4", "1.2.2", "1.0.0-beta"], ["1.2.3"]],
  ["!=1.2", ["1.3.0", "1.1.9"], ["1.2.0", "1.2.7"]],
  ["1.2 - 1.4", ["1.2.0", "1.4.9"], ["1.5.0", "1.1.0"]],
  ["1.2", ["1.2.0", "1.2.5"], ["1.3.0"]],
  ["v1.2.3", ["1.2.3", "v1.2.3"], ["1.2.4"]],
  ["=> 1.0, =< 1.1", ["1.0.0", "1.1.9"], ["1.2.0"]],
  [">1.2", ["1.3.0"], ["1.2.9"]],
  ["<=1.2", ["1.2.9"], ["1.3.0"]],
  ["*", ["0.0.0", "99.1.2", "1.2"], ["1.0.0-beta"]],
  ["", ["1.0.0"], []],
  [">=1.0.0-alpha", ["2.0.0-beta", "1.0.0"], ["0.9.0"]],
  [">=1.0.0-alpha, <3.0.0", ["2.0.0"], ["2.0.0-beta"]],
  ["~1.2.3-beta", ["1.2.3-beta", "1.2.9-alpha", "1.2.3"], ["1.3.0-alpha", "1.2.3-alpha"]],
  ["~0.0.0", ["0.0.5", "7.0.0"], []],
];

for (const [constraint, yes, no] of MATCHES) {
  test(`constraint ${JSON.stringify(constraint)}`, () => {
    const parsed = parseConstraint(constraint);
    assert.notEqual(semver.validRange(parsed.range), null, parsed.range);
    for (const version of yes)
      assert.ok(parsed.satisfiedBy(version), `${version} should satisfy ${parsed.range}`);
    for (const version of no)
      assert.ok(!parsed.satisfiedBy(version), `${version} should not satisfy ${parsed.range}`);
  });
}

test("invalid constraints are refused with DEPENDENCY_CONSTRAINT_INVALID", () => {
  for (const bad of [">>1", "1.2.3.4", "abc", "1.2 ||| 3", ">= 1.0 <", "1.2.3abc", "~"]) {
    assert.throws(
      () => parseConstraint(bad),
      (e) => isPolypackError(e, "DEPENDENCY_CONSTRAINT_INVALID"),
      bad,
    );
  }
});

test("coerceVersion accepts what Masterminds NewVersion accepts", () => {
  const table: [string, string | undefined][] = [
    ["1.2", "1.2.0"],
    ["1", "1.0.0"],
    ["v1.2.3", "1.2.3"],
    ["01.2.3", "1.2.3"],
    ["1.2.3-rc.1+build.5", "1.2.3-rc.1"],
    ["abc", undefined],
    ["1.2.3.4", undefined],
  ];
  for (const [input, output] of table) assert.equal(coerceVersion(input), output, input);
});

test("packitConstraint: defaults and the pessimistic operator", () => {
  const table: [string, string | undefined, string][] = [
    ["", "1.25.*", "1.25.*"],
    ["default", "24.*.*", "24.*.*"],
    ["default", undefined, "*"],
    ["", undefined, "*"],
    ["~> 1.2.3", undefined, "~1.2.3"],
    ["~> 1.2", undefined, "^1.2"],
    ["~> 1", undefined, "^1"],
    ["1.2.*", "9", "1.2.*"],
  ];
  for (const [version, fallback, expected] of table)
    assert.equal(packitConstraint(version, fallback), expected, version);
});

// ---- An independent model of Masterminds v3's Check, for release versions, written from its source.

type Part = number | "x" | undefined;
interface Comparator {
  op: string;
  parts: [Part, Part, Part];
}
type V = [number, number, number];

function cmp(a: V, b: V): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

function mastermindsCheck(v: V, c: Comparator): boolean {
  const [M, m, p] = c.parts;
  const isWild = (x: Part): boolean => x === undefined || x === "x";
  const majorDirty = isWild(M);
  const minorDirty = !majorDirty && isWild(m);
  const patchDirty = !majorDirty && !minorDirty && isWild(p);
  const dirty = majorDirty || minorDirty || patchDirty;
  const num = (x: Part): number => (typeof x === "number" ? x : 0);
  const con: V = majorDirty
    ? [0, 0, 0]
    : minorDirty
      ? [num(M), 0, 0]
      : [num(M), num(m), patchDirty ? 0 : num(p)];
  const tilde = (): boolean => {
    if (cmp(v, con) < 0) return false;
    if (con[0] === 0 && con[1] === 0 && con[2] === 0 && !minorDirty && !patchDirty) return true;
    if (v[0] !== con[0]) return false;
    return !(v[1] !== con[1] && !minorDirty);
  };
  switch (c.op) {
    case "":
    case "=":
      return dirty ? tilde() : cmp(v, con) === 0;
    case "~":
    case "~>":
      return tilde();
    case "^":
      if (cmp(v, con) < 0) return false;
      if (con[0] > 0 || minorDirty) return v[0] === con[0];
      if (v[0] > 0) return false;
      if (con[1] > 0 || patchDirty) return v[1] === con[1];
      if (v[1] > 0) return false;
      return v[2] === con[2];
    case ">":
      if (!dirty) return cmp(v, con) > 0;
      if (v[0] !== con[0]) return v[0] > con[0];
      if (minorDirty) return false;
      if (patchDirty) return v[1] > con[1];
      return cmp(v, con) > 0;
    case "<":
      return cmp(v, con) < 0;
    case ">=":
    case "=>":
      return cmp(v, con) >= 0;
    case "<=":
    case "=<":
      if (!dirty) return cmp(v, con) <= 0;
      if (v[0] > con[0]) return false;
      return !(v[0] === con[0] && v[1] > con[1] && !minorDirty);
    default: // !=
      if (dirty) {
        if (con[0] !== v[0]) return true;
        if (con[1] !== v[1] && !minorDirty) return true;
        if (minorDirty) return false;
        if (con[2] !== v[2] && !patchDirty) return true;
        if (patchDirty) return false;
      }
      return cmp(v, con) !== 0;
  }
}

// Zeros are over-represented: Masterminds special-cases major and minor 0 (`^0.0`, `~0.0.0`).
const part = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 }), fc.constant<"x">("x"));
const comparator = fc.record({
  op: fc.constantFrom("", "=", "!=", ">", "<", ">=", "<=", "=>", "=<", "~", "~>", "^"),
  parts: fc
    .tuple(part, fc.option(part, { nil: undefined }), fc.option(part, { nil: undefined }))
    .map(([M, m, p]): [Part, Part, Part] => [M, m, m === undefined ? undefined : p]),
  wildcard: fc.constantFrom("x", "X", "*"),
  vPrefix: fc.boolean(),
  space: fc.boolean(),
});
type Generated = Comparator & { wildcard: string; vPrefix: boolean; space: boolean };

function render(c: Generated): string {
  const text = c.parts
    .filter((x) => x !== undefined)
    .map((x) => (x === "x" ? c.wildcard : String(x)))
    .join(".");
  return `${c.op}${c.space ? " " : ""}${c.vPrefix && c.parts[0] !== "x" ? "v" : ""}${text}`;
}

test("property: the translation agrees with Masterminds' rules on release versions", () => {
  // Versions drawn from the same small numbers as the constraints, so they hit the boundaries.
  const version = fc.tuple(fc.nat(3), fc.nat(3), fc.nat(3));
  const andSet = fc.tuple(
    fc.array(comparator, { minLength: 1, maxLength: 2 }),
    fc.constantFrom(", ", " ", ","),
  );
  fc.assert(
    fc.property(
      fc.array(andSet, { minLength: 1, maxLength: 2 }),
      fc.array(version, { minLength: 8, maxLength: 24 }),
      (sets, versions) => {
        const text = sets.map(([cs, sep]) => cs.map(render).join(sep)).join(" || ");
        const parsed = parseConstraint(text);
        assert.notEqual(semver.validRange(parsed.range), null, parsed.range);
        for (const v of versions) {
          const expected = sets.some(([cs]) => cs.every((c) => mastermindsCheck(v, c)));
          assert.equal(
            parsed.satisfiedBy(v.join(".")),
            expected,
            `${v.join(".")} against ${text} → ${parsed.range}`,
          );
          // For release versions node-semver alone reads the range the same way.
          assert.equal(semver.satisfies(v.join("."), parsed.range), expected, parsed.range);
        }
      },
    ),
    { numRuns: 1000 },
  );
});

test("property: hyphen ranges mean >= A, <= B", () => {
  const v = fc.tuple(
    fc.nat(3),
    fc.option(fc.nat(3), { nil: undefined }),
    fc.option(fc.nat(3), { nil: undefined }),
  );
  const text = ([a, b, c]: [number, number | undefined, number | undefined]): string =>
    [a, b, b === undefined ? undefined : c].filter((x) => x !== undefined).join(".");
  fc.assert(
    fc.property(v, v, fc.tuple(fc.nat(4), fc.nat(4), fc.nat(4)), (a, b, version) => {
      const hyphen = parseConstraint(`${text(a)} - ${text(b)}`);
      const explicit = parseConstraint(`>= ${text(a)}, <= ${text(b)}`);
      assert.equal(hyphen.satisfiedBy(version.join(".")), explicit.satisfiedBy(version.join(".")));
    }),
  );
});

test("mastermindsToSemverRange gives node-semver text", () => {
  assert.equal(mastermindsToSemverRange("1.25.*"), ">=1.25.0 <1.26.0-0");
  assert.equal(mastermindsToSemverRange(">= 1.2, < 2 || 3.x"), ">=1.2.0 <2.0.0 || >=3.0.0 <4.0.0-0");
});
