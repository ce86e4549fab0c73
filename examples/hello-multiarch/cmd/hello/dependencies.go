package main

import (
	"strconv"
	"strings"
)

// descriptor is the part of buildpack.toml the build step needs.
type descriptor struct {
	// dependencies holds the string keys of each [[metadata.dependencies]] table.
	dependencies    []map[string]string
	defaultVersions map[string]string
}

// scanDescriptor reads buildpack.toml line by line. It understands only what this example's own
// buildpack.toml uses (table headers and `key = "string"` lines), which keeps the binary free of a
// TOML library; other values such as arrays are skipped.
func scanDescriptor(text string) descriptor {
	d := descriptor{defaultVersions: map[string]string{}}
	var current map[string]string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			current = nil
			switch line {
			case "[[metadata.dependencies]]":
				current = map[string]string{}
				d.dependencies = append(d.dependencies, current)
			case "[metadata.default-versions]":
				current = d.defaultVersions
			}
			continue
		}
		if current == nil {
			continue
		}
		if key, value, ok := stringEntry(line); ok {
			current[key] = value
		}
	}
	return d
}

// stringEntry splits `key = "value"`; it reports false for comments and non-string values.
func stringEntry(line string) (key, value string, ok bool) {
	eq := strings.Index(line, "=")
	if eq < 0 || strings.HasPrefix(line, "#") {
		return "", "", false
	}
	key = strings.Trim(strings.TrimSpace(line[:eq]), `"`)
	value, err := strconv.Unquote(strings.TrimSpace(line[eq+1:]))
	if err != nil {
		return "", "", false
	}
	return key, value, true
}

// selectDependency follows packit's rule: among entries with the id whose os and arch match (an
// absent key matches any) and whose version satisfies the constraint, the newest version wins.
func selectDependency(deps []map[string]string, id, os, arch, constraint string) (map[string]string, bool) {
	var best map[string]string
	for _, dep := range deps {
		if dep["id"] != id || !matchesAny(dep["os"], os) || !matchesAny(dep["arch"], arch) {
			continue
		}
		if !satisfies(dep["version"], constraint) {
			continue
		}
		if best == nil || compareVersions(dep["version"], best["version"]) > 0 {
			best = dep
		}
	}
	return best, best != nil
}

func matchesAny(declared, wanted string) bool {
	return declared == "" || declared == wanted
}

// satisfies understands the constraint forms this example uses: `*`, `1.*`, `1.1.*` and an exact
// version. Real buildpacks use full semver ranges.
func satisfies(version, constraint string) bool {
	switch {
	case constraint == "" || constraint == "*":
		return true
	case strings.HasSuffix(constraint, ".*"):
		return strings.HasPrefix(version, strings.TrimSuffix(constraint, "*"))
	default:
		return version == constraint
	}
}

// compareVersions compares dotted numeric versions part by part; a missing part counts as 0.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		x, y := part(as, i), part(bs, i)
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func part(parts []string, i int) int {
	if i >= len(parts) {
		return 0
	}
	n, _ := strconv.Atoi(parts[i])
	return n
}
