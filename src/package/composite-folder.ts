import { isPolypackError, PolypackError } from "../errors/index.js";
import type { LayerSpool } from "../image/spool.js";
import type { Platform } from "../oci/platform.js";
import type { DependencyLayers } from "./composite-image.js";
import { packageStacks } from "../buildpack/labels.js";
import { targetLayerEntries } from "./layer-entries.js";
import { planPackage } from "./plan.js";
import { selectTargets } from "./plan-targets.js";
import { hasRootBin, readBuildpackSource } from "./source.js";
import { scanSourceTree } from "./source-tree.js";
import { defaultExclusion } from "./default-exclusions.js";

/**
 * Packages a buildpack folder named by a package.toml dependency for one platform, the same way
 * the top buildpack is packaged (per-target folders, include-files, only that target's
 * dependencies), and writes its layer into the spool. Its pre-package is not run, as pack does not.
 */
export async function layersFromFolder(
  dir: string,
  platform: Platform,
  spool: LayerSpool,
): Promise<DependencyLayers> {
  const { descriptor } = await readBuildpackSource({ path: dir });
  const flag = platform.with({ osVersion: "" }).toString();
  let selection;
  try {
    selection = selectTargets(descriptor, {
      flags: [flag],
      hasRootBin: await hasRootBin(dir),
      strict: true,
    });
  } catch (error) {
    if (!isPolypackError(error, "TARGET_NOT_DECLARED")) throw error;
    throw new PolypackError("COMPOSITE_PLATFORM_MISSING", `${descriptor.file} does not support ${flag}`, {
      cause: error,
      hint: "add the target to that buildpack, or leave the target out",
    });
  }
  const useDefaults = descriptor.metadata.includeFiles.length === 0;
  const tree = await scanSourceTree(dir, {
    skip: (path) => useDefaults && defaultExclusion(dir, path) !== undefined,
  });
  const plan = planPackage(descriptor, selection, tree);
  const target = plan.targets[0]!;
  const layer = await spool.write(targetLayerEntries(plan, target, { buildpackDir: dir }), {
    absoluteNames: true,
    mediaTypes: "oci",
  });
  return {
    layers: [layer],
    moduleLayers: { [plan.id]: { [plan.version]: { ...plan.layerInfo, layerDiffID: layer.diffID } } },
    stacks: packageStacks(descriptor),
    warnings: plan.warnings,
  };
}
