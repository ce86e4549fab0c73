import type { LabelStack } from "./labels.js";

const WILDCARD = "*";

/**
 * The stacks two buildpacks both support, as pack merges them: a wildcard on one side yields the
 * other side (both wildcards yield the wildcard); otherwise the ids in both, in `b`'s order, each
 * with the sorted union of the two sides' mixins.
 */
export function mergeCompatibleStacks(a: readonly LabelStack[], b: readonly LabelStack[]): LabelStack[] {
  const aWildcard = a.some((s) => s.id === WILDCARD);
  const bWildcard = b.some((s) => s.id === WILDCARD);
  if (aWildcard && bWildcard) return [{ id: WILDCARD }];
  if (aWildcard) return [...b];
  if (bWildcard) return [...a];
  const mixinsById = new Map(a.map((s) => [s.id, s.mixins ?? []]));
  const merged: LabelStack[] = [];
  for (const stack of b) {
    const mixinsOfA = mixinsById.get(stack.id);
    if (mixinsOfA === undefined) continue;
    const mixins = [...new Set([...mixinsOfA, ...(stack.mixins ?? [])])].sort((x, y) =>
      Buffer.compare(Buffer.from(x), Buffer.from(y)),
    );
    merged.push(mixins.length > 0 ? { id: stack.id, mixins } : { id: stack.id });
  }
  return merged;
}

/**
 * The stacks a package supports (its metadata label): the top buildpack's, narrowed by every
 * included buildpack that names stacks; a composite without stacks takes its first child's.
 */
export function resolvedStacks(
  top: readonly LabelStack[],
  children: readonly (readonly LabelStack[])[],
): LabelStack[] {
  let stacks = [...top];
  for (const child of children) {
    if (stacks.length === 0) stacks = [...child];
    else if (child.length > 0) stacks = mergeCompatibleStacks(stacks, child);
  }
  return stacks;
}
