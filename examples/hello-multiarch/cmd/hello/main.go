// Command hello is both executables of the hello-multiarch example buildpack. Like Paketo's
// buildpacks it is built once per target as bin/run, and bin/detect and bin/build are symlinks to
// it, so the name it was started under decides what it does.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

const buildpackName = "hello-multiarch"

func main() {
	var code int
	switch name := filepath.Base(os.Args[0]); name {
	case "detect":
		code = detect()
	case "build":
		code = build(os.Args[1:])
	default:
		fmt.Fprintf(os.Stderr, "%s: started as %q; run me through the bin/detect or bin/build symlink\n", buildpackName, name)
		code = 1
	}
	os.Exit(code)
}

// detect always passes (unless asked not to): the point of the example is what it prints, namely
// whether the binary's architecture matches the target the lifecycle says it is building for.
func detect() int {
	targetOS, targetArch := os.Getenv("CNB_TARGET_OS"), os.Getenv("CNB_TARGET_ARCH")
	fmt.Printf("%s detect: built for %s/%s, target %s/%s\n", buildpackName, runtime.GOOS, runtime.GOARCH,
		orUnset(targetOS), orUnset(targetArch))
	if targetArch != "" && targetArch != runtime.GOARCH {
		fmt.Fprintf(os.Stderr, "%s detect: warning: this is a %s binary but the target architecture is %s\n",
			buildpackName, runtime.GOARCH, targetArch)
	}
	if os.Getenv("HELLO_FAIL_DETECT") != "" {
		fmt.Printf("%s detect: HELLO_FAIL_DETECT is set, so this buildpack does not apply\n", buildpackName)
		return 100 // the buildpack API's "fail", as opposed to an error
	}
	return 0
}

// build picks the hello-runtime dependency for the target, installs it into the `hello` layer
// after checking its sha256 (from the buildpack's own files: the example never downloads), and
// runs the installed program once, so its output shows which architecture was installed.
func build(args []string) int {
	fail := func(format string, a ...interface{}) int {
		fmt.Fprintf(os.Stderr, buildpackName+" build: "+format+"\n", a...)
		return 1
	}
	// Buildpack API 0.8 and later pass the layers directory in CNB_LAYERS_DIR; older ones as $1.
	layersDir := os.Getenv("CNB_LAYERS_DIR")
	if layersDir == "" && len(args) > 0 {
		layersDir = args[0]
	}
	if layersDir == "" {
		return fail("no layers directory: set CNB_LAYERS_DIR or pass it as the first argument")
	}
	targetOS := firstNonEmpty(os.Getenv("CNB_TARGET_OS"), runtime.GOOS)
	targetArch := firstNonEmpty(os.Getenv("CNB_TARGET_ARCH"), runtime.GOARCH)

	descriptorPath, err := findDescriptor()
	if err != nil {
		return fail("%v", err)
	}
	text, err := os.ReadFile(descriptorPath)
	if err != nil {
		return fail("%v", err)
	}
	descriptor := scanDescriptor(string(text))
	constraint := firstNonEmpty(os.Getenv("BP_HELLO_RUNTIME_VERSION"), descriptor.defaultVersions["hello-runtime"], "*")
	dep, ok := selectDependency(descriptor.dependencies, "hello-runtime", targetOS, targetArch, constraint)
	if !ok {
		return fail("%s lists no hello-runtime matching %q for %s/%s", descriptorPath, constraint, targetOS, targetArch)
	}
	fmt.Printf("%s build: built for %s/%s, target %s/%s\n", buildpackName, runtime.GOOS, runtime.GOARCH, targetOS, targetArch)
	fmt.Printf("%s build: installing hello-runtime %s from %s (%s)\n", buildpackName, dep["version"], dep["uri"], dep["checksum"])

	layerDir := filepath.Join(layersDir, "hello")
	files, err := install(filepath.Dir(descriptorPath), dep, layerDir)
	if err != nil {
		return fail("hello-runtime %s: %v", dep["version"], err)
	}
	// The archive keeps its release's own top folder, hello-runtime/, so the program is not in
	// <layer>/bin, which the lifecycle would put on PATH by itself: env/PATH.prepend does it.
	binDir := filepath.Join(layerDir, "hello-runtime", "bin")
	if err := writeLayer(layersDir, targetArch, dep["version"], binDir); err != nil {
		return fail("%v", err)
	}
	fmt.Printf("%s build: installed %d files of hello-runtime %s into %s; %s is on PATH\n",
		buildpackName, len(files), dep["version"], layerDir, binDir)
	said, err := runInstalled(filepath.Join(binDir, "hello-runtime"))
	if err != nil {
		return fail("hello-runtime %s was installed, but %v", dep["version"], err)
	}
	fmt.Printf("%s build: hello-runtime says: %s\n", buildpackName, said)
	return 0
}

// writeLayer writes the `hello` layer's metadata: env/HELLO_ARCH and env/HELLO_RUNTIME_VERSION
// become environment variables of later buildpacks and of the app (a file without a suffix
// overrides), and PATH gets binDir in front.
func writeLayer(layersDir, arch, version, binDir string) error {
	envDir := filepath.Join(layersDir, "hello", "env")
	if err := os.MkdirAll(envDir, 0o755); err != nil {
		return err
	}
	files := map[string]string{
		filepath.Join(envDir, "HELLO_ARCH"):            arch,
		filepath.Join(envDir, "HELLO_RUNTIME_VERSION"): version,
		filepath.Join(envDir, "PATH.prepend"):          binDir,
		filepath.Join(envDir, "PATH.delim"):            ":",
		// Without hello.toml the lifecycle ignores the layer directory.
		filepath.Join(layersDir, "hello.toml"): "[types]\n  build = true\n  launch = true\n",
	}
	for path, content := range files {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// findDescriptor returns the path of buildpack.toml: CNB_BUILDPACK_DIR when the lifecycle sets it,
// else the nearest one above the executable (bin/.. once packaged, linux/<arch>/bin/../../.. in the
// source tree).
func findDescriptor() (string, error) {
	if dir := os.Getenv("CNB_BUILDPACK_DIR"); dir != "" {
		return filepath.Join(dir, "buildpack.toml"), nil
	}
	dir, err := filepath.Abs(filepath.Dir(os.Args[0]))
	if err != nil {
		return "", err
	}
	for {
		candidate := filepath.Join(dir, "buildpack.toml")
		if _, err := os.Stat(candidate); err == nil {
			return candidate, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("CNB_BUILDPACK_DIR is not set and no buildpack.toml was found above %s", os.Args[0])
		}
		dir = parent
	}
}

func orUnset(value string) string {
	return firstNonEmpty(value, "(unset)")
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
