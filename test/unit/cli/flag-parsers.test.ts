import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError } from "commander";
import { choiceFlag, integerFlag, secondsFlag } from "../../../src/cli/flag-parsers.js";

test("integerFlag takes decimal whole numbers in range and refuses everything else as a usage error", () => {
  const parse = integerFlag(1, 64);
  assert.equal(parse("1"), 1);
  assert.equal(parse("64"), 64);
  assert.equal(parse(" 8 "), 8);
  for (const bad of [
    "0",
    "65",
    "-1",
    "1.5",
    "",
    " ",
    "abc",
    "1e3",
    "0x10",
    "4x",
    "Infinity",
    "9".repeat(20),
  ]) {
    assert.throws(
      () => parse(bad),
      (e) => e instanceof InvalidArgumentError && /from 1 to 64/.test(e.message),
      JSON.stringify(bad),
    );
  }
});

test("choiceFlag takes one of its words, spelled exactly", () => {
  const parse = choiceFlag(["file", "layout", "image"]);
  assert.equal(parse("layout"), "layout");
  for (const bad of ["", "Layout", "tarball", " file"]) {
    assert.throws(
      () => parse(bad),
      (e) => e instanceof InvalidArgumentError && e.message.includes("file, layout, image"),
      JSON.stringify(bad),
    );
  }
});

test("secondsFlag takes positive decimal seconds up to its bound, which keeps timers from overflowing", () => {
  const parse = secondsFlag(86400);
  assert.equal(parse("0.5"), 0.5);
  assert.equal(parse("60"), 60);
  assert.equal(parse(".25"), 0.25);
  assert.equal(parse("86400"), 86400);
  for (const bad of ["0", "0.0", "-1", "", "soon", "1e3", "0x10", "Infinity", "86400.5", "3000000"]) {
    assert.throws(
      () => parse(bad),
      (e) => e instanceof InvalidArgumentError && /positive number of seconds, at most 86400/.test(e.message),
      JSON.stringify(bad),
    );
  }
});
