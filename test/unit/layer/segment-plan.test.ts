import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { fileSize, type LayerEntry } from "../../../src/layer/entry.js";
import {
  DEFAULT_MEMBER_SIZE,
  DEFAULT_SEGMENT_THRESHOLD,
  isAnchor,
  planSegments,
  segmentation,
  tarFootprint,
  type Segment,
} from "../../../src/layer/segment-plan.js";
import { prepareEntries } from "../../../src/layer/tar-writer.js";
import { isPolypackError } from "../../../src/errors/index.js";
import { Readable } from "node:stream";

const KiB = 1024;
const MiB = 1024 * KiB;

/** A streamed file entry of `size` bytes whose content is never read by the planner. */
const file = (path: string, size: number): LayerEntry => ({
  path,
  type: "file",
  size,
  open: () => Readable.from([]),
});

/** The entry paths of each segment. */
function segmentPaths(entries: LayerEntry[], threshold: number): string[][] {
  const prepared = prepareEntries(entries);
  return planSegments(prepared, threshold).map((s) => prepared.slice(s.start, s.end).map((e) => e.path));
}

/** Checks what every plan must satisfy and returns it. */
function checkedPlan(entries: LayerEntry[], threshold: number): Segment[] {
  const prepared = prepareEntries(entries);
  const segments = planSegments(prepared, threshold);
  let at = 0;
  for (const [i, segment] of segments.entries()) {
    assert.equal(segment.start, at, "segments are contiguous");
    assert.ok(segment.end > segment.start || prepared.length === 0, "no empty segment");
    assert.equal(segment.endOfArchive, i === segments.length - 1, "only the last ends the archive");
    at = segment.end;
  }
  assert.equal(at, prepared.length, "segments cover every entry");
  return segments;
}

test("defaults: files of 4 MiB and more are alone, members hold at most 8 MiB", () => {
  assert.deepEqual(segmentation(), {
    segmentThreshold: DEFAULT_SEGMENT_THRESHOLD,
    memberSize: DEFAULT_MEMBER_SIZE,
  });
  assert.equal(DEFAULT_SEGMENT_THRESHOLD, 4 * MiB);
  assert.equal(DEFAULT_MEMBER_SIZE, 8 * MiB);
});

test("a layer whose tar is under the threshold is one segment", () => {
  const entries = [{ path: "a", type: "directory" as const }, file("a/one", 1 * MiB), file("a/two", 2 * MiB)];
  assert.deepEqual(checkedPlan(entries, 4 * MiB), [{ start: 0, end: 3, endOfArchive: true }]);
  assert.deepEqual(checkedPlan([], 4 * MiB), [{ start: 0, end: 0, endOfArchive: true }]);
  assert.equal(checkedPlan(entries, Infinity).length, 1, "an infinite threshold never cuts");
});

test("a big file is a segment of its own between groups of small entries", () => {
  const entries = [
    { path: "bin", type: "directory" as const },
    file("bin/build", 1000),
    file("bin/detect", 1000),
    file("deps.tgz", 5 * MiB),
    file("deps2.tgz", 4 * MiB),
    file("zz.toml", 10),
  ];
  assert.deepEqual(segmentPaths(entries, 4 * MiB), [
    ["bin", "bin/build", "bin/detect"],
    ["deps.tgz"],
    ["deps2.tgz"],
    ["zz.toml"],
  ]);
  assert.deepEqual(segmentPaths(entries.slice(0, 4), 4 * MiB), [
    ["bin", "bin/build", "bin/detect"],
    ["deps.tgz"],
  ]);
});

test("groups of small entries close at the threshold, or at an anchor after a quarter of it", () => {
  const entries = Array.from({ length: 400 }, (_, i) => file(`f/${String(i).padStart(4, "0")}`, 20 * KiB));
  const prepared = prepareEntries(entries);
  const segments = checkedPlan(entries, 1 * MiB);
  assert.ok(segments.length > 4);
  for (const segment of segments.slice(0, -1)) {
    const bytes = prepared
      .slice(segment.start, segment.end)
      .reduce((sum, { entry }) => sum + tarFootprint(entry), 0);
    const last = prepared[segment.end - 1]!.path;
    assert.ok(bytes >= MiB / 4, `group of ${bytes} bytes is at least a quarter of the threshold`);
    assert.ok(bytes >= MiB || isAnchor(last), `group ending at ${last} ends at an anchor or the threshold`);
    assert.ok(bytes < MiB + 21 * KiB, "a group never grows past the threshold by more than one entry");
  }
});

test("resizing one small file moves no boundary outside its own group", () => {
  const sizes = Array.from({ length: 600 }, (_, i) => 5 * KiB + ((i * 7919) % 30) * KiB);
  const entries = (grown: number, by: number): LayerEntry[] =>
    sizes.map((size, i) => file(`lib/${String(i).padStart(4, "0")}.js`, i === grown ? size + by : size));
  const key = (s: Segment): string => `${s.start}-${s.end}`;
  const before = checkedPlan(entries(-1, 0), 2 * MiB).map(key);
  for (const [grown, by] of [
    [10, 100 * KiB],
    [300, 40 * KiB],
    [301, -4 * KiB],
    [590, 500 * KiB],
  ] as const) {
    const after = checkedPlan(entries(grown, by), 2 * MiB).map(key);
    const changed = after.filter((range) => !before.includes(range));
    assert.ok(changed.length <= 2, `resizing entry ${grown} changed ${changed.join(", ")}`);
  }
});

test("any entry list: segments are contiguous, big files alone, and the plan is a pure function", () => {
  const entryList = fc.uniqueArray(
    fc.record({ name: fc.stringMatching(/^[a-z]{1,6}$/), size: fc.integer({ min: 0, max: 3 * MiB }) }),
    { selector: (e) => e.name, maxLength: 60 },
  );
  fc.assert(
    fc.property(entryList, fc.integer({ min: 0, max: 2 * MiB }), (list, threshold) => {
      const entries = list.map((e) => file(e.name, e.size));
      const segments = checkedPlan(entries, threshold);
      assert.deepEqual(planSegments(prepareEntries([...entries].reverse()), threshold), segments);
      const prepared = prepareEntries(entries);
      const total = prepared.reduce((sum, { entry }) => sum + tarFootprint(entry), 1024);
      if (total < threshold) assert.equal(segments.length, 1);
      else {
        for (const segment of segments) {
          const big = prepared
            .slice(segment.start, segment.end)
            .some(({ entry }) => entry.type === "file" && fileSize(entry) >= threshold);
          if (big) assert.equal(segment.end - segment.start, 1, "a big file is alone");
        }
      }
    }),
  );
});

test("nonsensical cuts are refused", () => {
  for (const options of [
    { segmentThreshold: -1 },
    { segmentThreshold: Number.NaN },
    { memberSize: 1000 },
    { memberSize: 2 * 1024 * MiB },
    { memberSize: 100_000.5 },
  ]) {
    assert.throws(
      () => segmentation(options),
      (error) => isPolypackError(error, "LAYER_OPTIONS_INVALID"),
    );
  }
});
