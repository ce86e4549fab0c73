import { encodeGoJSON, type GoJSONValue } from "../oci/go-json.js";
import type { BuilderGroupEntry, BuilderOrderEntry, RunImageConfig } from "./config.js";
import type { LifecycleDescriptor } from "./lifecycle.js";

/** A buildpack or extension on a builder, as the metadata label lists it. */
export interface BuilderModuleInfo {
  id: string;
  version: string;
  name?: string;
  homepage?: string;
}

// TOML written the way pack's encoder (BurntSushi/toml) lays it out: a blank line before each table
// header, nested tables indented by two spaces per level, keys in struct order, empty values left out.

function tomlString(value: string): string {
  return JSON.stringify(value).replace(/\u007f/g, "\\u007f");
}

function groupEntryToml(entry: BuilderGroupEntry, header: string, indent: string): string {
  let text = `\n${indent}[[${header}]]\n`;
  const inner = `${indent}  `;
  text += `${inner}id = ${tomlString(entry.id)}\n`;
  if (entry.version) text += `${inner}version = ${tomlString(entry.version)}\n`;
  if (entry.optional) text += `${inner}optional = true\n`;
  return text;
}

function orderToml(key: string, order: readonly BuilderOrderEntry[]): string {
  let text = "";
  for (const entry of order) {
    text += `[[${key}]]\n`;
    for (const member of entry.group) text += groupEntryToml(member, `${key}.group`, "  ");
    text += "\n";
  }
  return text;
}

/** `/cnb/order.toml`: the resolved order (and order-extensions). */
export function orderFile(
  order: readonly BuilderOrderEntry[],
  orderExtensions: readonly BuilderOrderEntry[],
): string {
  return (orderToml("order", order) + orderToml("order-extensions", orderExtensions)).replace(/\n+$/, "\n");
}

/** `/cnb/system.toml`: the resolved system buildpacks. */
export function systemFile(pre: readonly BuilderGroupEntry[], post: readonly BuilderGroupEntry[]): string {
  let text = "[system]\n";
  for (const [key, entries] of [
    ["pre", pre],
    ["post", post],
  ] as const) {
    if (entries.length === 0) continue;
    text += `  [system.${key}]\n`;
    for (const entry of entries) text += groupEntryToml(entry, `system.${key}.buildpacks`, "    ");
  }
  return text;
}

function runImageToml(image: RunImageConfig, indent: string): string {
  let text = `${indent}image = ${tomlString(image.image)}\n`;
  if (image.mirrors.length > 0) text += `${indent}mirrors = [${image.mirrors.map(tomlString).join(", ")}]\n`;
  return text;
}

/** `/cnb/run.toml`: every run image with its mirrors. */
export function runFile(images: readonly RunImageConfig[]): string {
  return images.map((image) => `[[images]]\n${runImageToml(image, "  ")}`).join("\n");
}

/** `/cnb/stack.toml`: the first run image, for platforms older than 0.12. */
export function stackFile(images: readonly RunImageConfig[]): string {
  const first = images[0];
  return first ? `[run-image]\n${runImageToml(first, "  ")}` : "";
}

function refJSON(entry: BuilderGroupEntry): GoJSONValue {
  return {
    id: entry.id,
    ...(entry.version ? { version: entry.version } : {}),
    ...(entry.optional ? { optional: true } : {}),
  };
}

/** The `io.buildpacks.buildpack.order` (or `.order-extensions`) label: the order as builder.toml gave it. */
export function orderLabel(order: readonly BuilderOrderEntry[]): string {
  return encodeGoJSON(order.map((entry) => ({ group: entry.group.map(refJSON) })));
}

/** The `io.buildpacks.buildpack.system` label. */
export function systemLabel(pre: readonly BuilderGroupEntry[], post: readonly BuilderGroupEntry[]): string {
  return encodeGoJSON({
    ...(pre.length > 0 ? { pre: { buildpacks: pre.map(refJSON) } } : {}),
    ...(post.length > 0 ? { post: { buildpacks: post.map(refJSON) } } : {}),
  });
}

/** What the builder metadata label is made from. */
export interface BuilderMetadataInput {
  description: string;
  buildpacks: readonly BuilderModuleInfo[];
  extensions: readonly BuilderModuleInfo[];
  runImages: readonly RunImageConfig[];
  lifecycle: LifecycleDescriptor;
  createdBy: { name: string; version: string };
}

function moduleJSON(info: BuilderModuleInfo): GoJSONValue {
  return {
    id: info.id,
    ...(info.name ? { name: info.name } : {}),
    version: info.version,
    ...(info.homepage ? { homepage: info.homepage } : {}),
  };
}

function runImageJSON(image: RunImageConfig): GoJSONValue {
  return { image: image.image, mirrors: image.mirrors.length > 0 ? [...image.mirrors] : null };
}

/** The `io.buildpacks.builder.metadata` label, with pack's fields in pack's order. */
export function builderMetadataLabel(input: BuilderMetadataInput): string {
  const apis = (set: { deprecated: string[]; supported: string[] }): GoJSONValue => ({
    deprecated: set.deprecated.length > 0 ? [...set.deprecated] : null,
    supported: [...set.supported],
  });
  return encodeGoJSON({
    description: input.description,
    buildpacks: input.buildpacks.length > 0 ? input.buildpacks.map(moduleJSON) : null,
    extensions: input.extensions.length > 0 ? input.extensions.map(moduleJSON) : null,
    stack: { runImage: input.runImages[0] ? runImageJSON(input.runImages[0]) : { image: "", mirrors: null } },
    lifecycle: {
      version: input.lifecycle.version,
      api: { buildpack: input.lifecycle.api.buildpack, platform: input.lifecycle.api.platform },
      apis: {
        buildpack: apis(input.lifecycle.apis.buildpack),
        platform: apis(input.lifecycle.apis.platform),
      },
    },
    createdBy: { name: input.createdBy.name, version: input.createdBy.version },
    images: input.runImages.map(runImageJSON),
  });
}
