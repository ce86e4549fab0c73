import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isPolypackError } from "../../../src/errors/index.js";
import type { LayerEntry } from "../../../src/layer/entry.js";
import { addCnbAccount, type CnbAccount } from "../../../src/stack/accounts.js";
import { distroFromOsRelease } from "../../../src/stack/os-release.js";
import { linkTarget, readRootEntries, readRootFiles } from "../../../src/stack/root-files.js";
import { memoryLayer } from "../../support/base-images.js";

const ACCOUNT: CnbAccount = {
  userName: "cnb",
  groupName: "cnb",
  uid: 1000,
  gid: 1000,
  home: "/home/cnb",
  shell: "/bin/sh",
};
const PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n";
const GROUP = "root:x:0:\nusers:x:100:\n";

describe("addCnbAccount", () => {
  it("appends the user and group, keeping every line the image had", () => {
    const result = addCnbAccount({ passwd: PASSWD, group: GROUP.trimEnd() }, ACCOUNT, "img");
    assert.equal(result.passwd, `${PASSWD}cnb:x:1000:1000:CNB user:/home/cnb:/bin/sh\n`);
    assert.equal(result.group, `${GROUP}cnb:x:1000:\n`);
  });

  it("changes nothing when the same user and group are already there (a second run)", () => {
    const once = addCnbAccount({ passwd: PASSWD, group: GROUP }, ACCOUNT, "img");
    assert.deepEqual(addCnbAccount(once, ACCOUNT, "img"), once);
  });

  it("refuses a uid, gid or name another user or group has, naming it", () => {
    const cases: [{ passwd: string; group: string }, RegExp][] = [
      [
        { passwd: `${PASSWD}ubuntu:x:1000:1000::/home/ubuntu:/bin/bash\n`, group: GROUP },
        /uid 1000 belongs to user ubuntu/,
      ],
      [{ passwd: PASSWD, group: `${GROUP}staff:x:1000:\n` }, /gid 1000 belongs to group staff/],
      [{ passwd: `${PASSWD}cnb:x:1001:1001::/home/cnb:/bin/sh\n`, group: GROUP }, /user cnb with uid 1001/],
      [{ passwd: PASSWD, group: `${GROUP}cnb:x:1001:\n` }, /group cnb with gid 1001/],
    ];
    for (const [files, message] of cases) {
      assert.throws(
        () => addCnbAccount(files, ACCOUNT, "reg/base (linux/arm64)"),
        (error: unknown) =>
          isPolypackError(error, "STACK_USER_CONFLICT") &&
          message.test(error.message) &&
          error.message.includes("reg/base (linux/arm64)"),
      );
    }
  });
});

describe("os-release", () => {
  it("reads ID and VERSION_ID, quoted or not", () => {
    assert.deepEqual(distroFromOsRelease('NAME="Ubuntu"\nID=ubuntu\nVERSION_ID="24.04"\n'), {
      name: "ubuntu",
      version: "24.04",
    });
    assert.deepEqual(distroFromOsRelease("# comment\nID='alpine'\nVERSION_ID=3.20.1"), {
      name: "alpine",
      version: "3.20.1",
    });
    assert.deepEqual(distroFromOsRelease("ID=arch\nBUILD_ID=rolling\n"), { name: "arch" });
    assert.equal(distroFromOsRelease('NAME="No id"\n'), undefined);
  });
});

describe("readRootEntries", () => {
  const layers = (...entries: LayerEntry[][]) => Promise.all(entries.map((e) => memoryLayer(e)));
  const file = (path: string, content: string): LayerEntry => ({ type: "file", path, content });
  const text = (entries: Awaited<ReturnType<typeof readRootEntries>>, path: string): string | undefined => {
    const entry = entries.get(path);
    return entry?.type === "file" ? entry.content.toString() : undefined;
  };

  it("applies layers in order: later files win, whiteouts and opaque folders remove what is beneath", async () => {
    const stack = await layers(
      [
        { type: "directory", path: "etc" },
        file("etc/passwd", "one"),
        file("etc/group", "g1"),
        file("etc/os-release", "ID=a"),
      ],
      [file("etc/passwd", "two"), file("etc/.wh.group", "")],
      [{ type: "directory", path: "etc" }, file("etc/.wh..wh..opq", ""), file("etc/passwd", "three")],
    );
    const found = await readRootEntries(stack, ["etc/passwd", "etc/group", "etc/os-release"], "img");
    assert.equal(text(found, "etc/passwd"), "three");
    assert.equal(found.has("etc/group"), false, "whited out");
    assert.equal(found.has("etc/os-release"), false, "hidden by the opaque folder");
  });

  it("a whiteout in a layer hides only what the layers beneath hold, and a removed folder takes its files", async () => {
    const stack = await layers(
      [file("etc/group", "old"), file("etc/passwd", "p")],
      [file("etc/group", "new"), file("etc/.wh.group", "")],
      [file(".wh.etc", "")],
    );
    assert.equal(text(await readRootEntries(stack.slice(0, 2), ["etc/group"], "img"), "etc/group"), "new");
    assert.equal((await readRootEntries(stack, ["etc/group", "etc/passwd"], "img")).size, 0);
  });

  it("follows links, as Debian's /etc/os-release -> ../usr/lib/os-release", async () => {
    const stack = await layers([
      { type: "symlink", path: "etc/os-release", linkname: "../usr/lib/os-release" },
      file("usr/lib/os-release", "ID=debian\nVERSION_ID=12\n"),
      { type: "symlink", path: "etc/passwd", linkname: "/data/passwd" },
      file("data/passwd", "root:x:0:0::/:/bin/sh\n"),
    ]);
    const { files } = await readRootFiles(stack, ["etc/os-release", "etc/passwd", "etc/missing"], "img");
    assert.equal(files.get("etc/os-release")?.content.toString(), "ID=debian\nVERSION_ID=12\n");
    assert.equal(files.get("etc/passwd")?.content.toString(), "root:x:0:0::/:/bin/sh\n");
    assert.equal(files.has("etc/missing"), false);
    assert.equal(linkTarget("etc/x", { type: "symlink", linkname: "../../../../etc/y" }), "etc/y");
  });
});
