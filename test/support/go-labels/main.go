// Command go-labels is a test oracle: it writes the two labels pack v0.40 writes on a
// buildpackage, with pack's own structs (the field order and JSON tags of dist.ModuleInfo,
// dist.ModuleRef, dist.Stack, dist.Target, dist.ModuleLayerInfo and buildpack.Metadata, restated
// here) and pack's rules (dist.AddToLayersMD, PackageBuilder.resolvedStacks), encoded by Go's
// encoding/json. Input on stdin, as JSON:
//
//	{"kind": "buildpack" | "extension", "descriptor": <the buildpack.toml as JSON>, "diffID": "sha256:...",
//	 "children": [{"descriptor": <a dependency's buildpack.toml as JSON>, "diffID": "sha256:..."}]}
//
// Output: the layers label, a newline, the buildpackage metadata label.
package main

import (
	"encoding/json"
	"fmt"
	"os"
)

type License struct {
	Type string `toml:"type"`
	URI  string `toml:"uri"`
}

type ModuleInfo struct {
	ID          string    `json:"id,omitempty"`
	Name        string    `json:"name,omitempty"`
	Version     string    `json:"version,omitempty"`
	Description string    `json:"description,omitempty"`
	Homepage    string    `json:"homepage,omitempty"`
	Keywords    []string  `json:"keywords,omitempty"`
	ExecEnv     []string  `json:"exec-env,omitempty"`
	Licenses    []License `json:"licenses,omitempty"`
	ClearEnv    bool      `json:"clear-env,omitempty"`
}

type Stack struct {
	ID     string   `json:"id"`
	Mixins []string `json:"mixins,omitempty"`
}

type Distribution struct {
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
}

type Target struct {
	OS            string         `json:"os"`
	Arch          string         `json:"arch"`
	ArchVariant   string         `json:"variant,omitempty"`
	Distributions []Distribution `json:"distros,omitempty"`
}

type ModuleRef struct {
	ModuleInfo
	Optional bool `json:"optional,omitempty"`
}

type OrderEntry struct {
	Group []ModuleRef `json:"group"`
}

type ModuleLayerInfo struct {
	API         string       `json:"api"`
	Stacks      []Stack      `json:"stacks,omitempty"`
	Targets     []Target     `json:"targets,omitempty"`
	Order       []OrderEntry `json:"order,omitempty"`
	LayerDiffID string       `json:"layerDiffID"`
	Homepage    string       `json:"homepage,omitempty"`
	Name        string       `json:"name,omitempty"`
}

type Metadata struct {
	ModuleInfo
	Stacks []Stack `json:"stacks"`
}

// descriptor reads a buildpack.toml (or extension.toml) given as JSON, the way pack's TOML tags name
// its keys; `variant` and `distros` are the TOML names of a target's ArchVariant and Distributions.
type descriptor struct {
	API       string       `json:"api"`
	Buildpack *ModuleInfo  `json:"buildpack"`
	Extension *ModuleInfo  `json:"extension"`
	Stacks    []Stack      `json:"stacks"`
	Targets   []Target     `json:"targets"`
	Order     []OrderEntry `json:"order"`
}

func (d descriptor) info() ModuleInfo {
	if d.Extension != nil {
		return *d.Extension
	}
	return *d.Buildpack
}

type module struct {
	Descriptor descriptor `json:"descriptor"`
	DiffID     string     `json:"diffID"`
}

type input struct {
	Kind string `json:"kind"`
	module
	Children []module `json:"children"`
}

// addToLayers is dist.AddToLayersMD: the descriptor's own stacks, targets and order.
func addToLayers(layers map[string]map[string]ModuleLayerInfo, m module, kind string) {
	info := m.Descriptor.info()
	if layers[info.ID] == nil {
		layers[info.ID] = map[string]ModuleLayerInfo{}
	}
	entry := ModuleLayerInfo{API: m.Descriptor.API, Targets: m.Descriptor.Targets, LayerDiffID: m.DiffID, Homepage: info.Homepage, Name: info.Name}
	if kind != "extension" { // an ExtensionDescriptor has no stacks or order
		entry.Stacks, entry.Order = m.Descriptor.Stacks, m.Descriptor.Order
	}
	layers[info.ID][info.Version] = entry
}

// anyStack is pack's rule for a buildpack without stacks or order: it supports any stack.
func anyStack(d descriptor) []Stack {
	if len(d.Stacks) == 0 && len(d.Order) == 0 {
		return []Stack{{ID: "*"}}
	}
	return d.Stacks
}

// resolvedStacks is PackageBuilder.resolvedStacks, with stack.MergeCompatible for the simple cases
// the tests use (a wildcard on one side, or the same stacks on both).
func resolvedStacks(top descriptor, children []module) []Stack {
	stacks := anyStack(top)
	for _, child := range children {
		childStacks := anyStack(child.Descriptor)
		if len(stacks) == 0 {
			stacks = childStacks
		} else if len(childStacks) > 0 && len(stacks) == 1 && stacks[0].ID == "*" {
			stacks = childStacks
		}
	}
	return stacks
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	layers := map[string]map[string]ModuleLayerInfo{}
	addToLayers(layers, in.module, in.Kind)
	for _, child := range in.Children {
		addToLayers(layers, child, "buildpack")
	}
	metadata := Metadata{ModuleInfo: in.Descriptor.info()}
	if in.Kind != "extension" {
		metadata.Stacks = resolvedStacks(in.Descriptor, in.Children)
	}
	for _, value := range []interface{}{layers, metadata} {
		text, err := json.Marshal(value)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(string(text))
	}
}
