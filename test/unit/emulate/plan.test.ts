import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "smol-toml";
import {
  buildpackPlanToml,
  parseDetectPlan,
  resolvePlans,
  type Detected,
} from "../../../src/emulate/plan.js";

function bp(key: string, plan: string, optional = false): Detected {
  return { key, optional, alternatives: parseDetectPlan(plan, key) };
}

describe("detect plans", () => {
  it("reads provides, requires with metadata, and each [[or]] as an alternative", () => {
    const alternatives = parseDetectPlan(
      '[[provides]]\nname = "node"\n[[requires]]\nname = "node"\n[requires.metadata]\nversion = "20"\n' +
        '[[or]]\n[[or.provides]]\nname = "npm"\n',
      "plan",
    );
    assert.deepEqual(JSON.parse(JSON.stringify(alternatives)), [
      { provides: [{ name: "node" }], requires: [{ name: "node", metadata: { version: "20" } }] },
      { provides: [{ name: "npm" }], requires: [] },
    ]);
    assert.deepEqual(parseDetectPlan("", "empty"), [{ provides: [], requires: [] }]);
    assert.throws(
      () => parseDetectPlan("[[requires]]\nversion = 1\n", "bad plan"),
      /bad plan: requires 1 has no name/,
    );
  });

  it("passes a single buildpack that provides what it requires, and gives it the requirement", () => {
    const resolution = resolvePlans([
      bp("a@1", '[[provides]]\nname = "x"\n[[requires]]\nname = "x"\n[requires.metadata]\nk = "v"\n'),
    ]);
    assert.ok(resolution.ok);
    assert.deepEqual(JSON.parse(JSON.stringify(resolution.buildpacks)), [
      { key: "a@1", entries: [{ name: "x", metadata: { k: "v" } }] },
    ]);
  });

  it("fails a buildpack that provides what nobody requires, or requires what nobody before it provides", () => {
    const provides = resolvePlans([bp("a@1", '[[provides]]\nname = "x"\n')]);
    assert.deepEqual(provides, {
      ok: false,
      reason: "a@1: provides x, which no buildpack after it (or itself) requires",
    });
    const requires = resolvePlans([bp("a@1", ""), bp("b@1", '[[requires]]\nname = "x"\n')]);
    assert.deepEqual(requires, {
      ok: false,
      reason: "b@1: requires x, which no buildpack before it (or itself) provides",
    });
  });

  it("drops an optional buildpack whose plan is not met, and tries [[or]] alternatives in order", () => {
    const dropped = resolvePlans([bp("a@1", ""), bp("b@1", '[[requires]]\nname = "x"\n', true)]);
    assert.ok(dropped.ok);
    assert.deepEqual(
      dropped.buildpacks.map((b) => b.key),
      ["a@1"],
    );
    const alternative = resolvePlans([
      bp("a@1", '[[provides]]\nname = "x"\n[[or]]\n[[or.provides]]\nname = "y"\n'),
      bp("b@1", '[[requires]]\nname = "y"\n'),
    ]);
    assert.ok(alternative.ok);
    assert.deepEqual(
      alternative.buildpacks.map((b) => [b.key, b.entries.map((e) => e.name)]),
      [
        ["a@1", ["y"]],
        ["b@1", []],
      ],
    );
  });

  it("writes the buildpack plan as [[entries]] TOML", () => {
    const text = buildpackPlanToml([{ name: "x", metadata: { version: "1", nested: { a: [1, 2] } } }]);
    assert.deepEqual(JSON.parse(JSON.stringify(parse(text))), {
      entries: [{ name: "x", metadata: { version: "1", nested: { a: [1, 2] } } }],
    });
    assert.deepEqual(JSON.parse(JSON.stringify(parse(buildpackPlanToml([])))), { entries: [] });
  });
});
