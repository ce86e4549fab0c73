import { createReadStream } from "node:fs";
import { chmod, link, mkdir, open, symlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { PolypackError } from "../errors/index.js";
import { readLayer } from "../layer/read-layer.js";

/**
 * Unpacks a buildpack archive (`.tgz`, `.tar.gz` or `.tar`, as pack reads `[buildpack] uri` and
 * dependency uris) into the empty folder `dest`. Paths are checked by readLayer (nothing climbs
 * out); an entry below a symbolic link the archive made is refused, so no write follows a link out
 * of `dest`; devices and the like are refused. Modes keep only their permission bits.
 */
export async function unpackBuildpackArchive(archive: string, dest: string): Promise<void> {
  const context = `buildpack archive ${archive}`;
  const links = new Set<string>();
  for await (const entry of readLayer(createReadStream(archive), { context })) {
    if (entry.path === ".") continue;
    const below = entry.path.split("/").some((_, i, parts) => links.has(parts.slice(0, i).join("/")));
    if (below) {
      throw new PolypackError(
        "PATH_ESCAPE",
        `${context}: ${entry.name} lies below a symbolic link of the archive`,
        {
          hint: "the archive is malformed or hostile; it was not used",
        },
      );
    }
    const target = join(dest, entry.path);
    await mkdir(dirname(target), { recursive: true });
    switch (entry.type) {
      case "directory":
        await mkdir(target, { recursive: true });
        break;
      case "symlink":
        await symlink(entry.linkname ?? "", target);
        links.add(entry.path);
        break;
      case "hardlink":
        await link(join(dest, entry.linkname ?? ""), target);
        break;
      case "file": {
        const handle = await open(target, "wx");
        try {
          for await (const chunk of entry.content) await handle.write(chunk);
        } finally {
          await handle.close();
        }
        await chmod(target, entry.mode & 0o777);
        break;
      }
      default:
        throw new PolypackError(
          "LAYER_UNSUPPORTED_FILE",
          `${context}: ${entry.name} is not a file, folder or link`,
          {
            hint: "sockets, pipes and devices cannot go into a buildpack",
          },
        );
    }
  }
}
