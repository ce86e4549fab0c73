package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Limits for what the build reads: the example's archives are a few hundred bytes, so anything
// near these is not the file buildpack.toml describes.
const (
	maxArchiveBytes   = 64 << 20
	maxExtractedBytes = 256 << 20
)

// archivePath finds the file a dependency's `file:` URI names. Both forms resolve against the
// buildpack's own folder: `file:dependencies-src/x.tgz` (the source tree, and packages, which carry
// each target's archives there) and `file:///dependencies/<hex>` (an offline package, where the path
// is the buildpack's, as in packit). Other schemes would need a download, which this example avoids.
func archivePath(buildpackDir, uri string) (string, error) {
	if !strings.HasPrefix(uri, "file:") {
		return "", fmt.Errorf("%s is not a file: URI, and this example does not download dependencies", uri)
	}
	rest := strings.TrimPrefix(uri, "file:")
	if strings.HasPrefix(rest, "//") {
		// An authority must be empty (file:///path): anything else names another machine.
		if !strings.HasPrefix(rest, "///") {
			return "", fmt.Errorf("%s names a host; expected file:///path or file:relative/path", uri)
		}
		rest = rest[2:]
	}
	relative := path.Clean("/" + rest)[1:]
	if relative == "" || relative != strings.TrimPrefix(rest, "/") {
		// Cleaning changed it: `..`, `.` or doubled slashes, which could point out of the buildpack.
		return "", fmt.Errorf("%s is not a plain path inside the buildpack", uri)
	}
	return filepath.Join(buildpackDir, filepath.FromSlash(relative)), nil
}

// readVerified reads the archive (at most maxArchiveBytes) and checks it against `sha256:<hex>`.
func readVerified(file, checksum string) ([]byte, error) {
	algorithm, want, ok := strings.Cut(checksum, ":")
	if !ok || algorithm != "sha256" || len(want) != sha256.Size*2 {
		return nil, fmt.Errorf("checksum %q is not sha256:<64 hex digits>; the archive cannot be verified", checksum)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxArchiveBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	if len(data) > maxArchiveBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", file, maxArchiveBytes)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != strings.ToLower(want) {
		return nil, fmt.Errorf("%s is sha256:%s, but buildpack.toml declares %s", file, got, checksum)
	}
	return data, nil
}

// extract unpacks a gzip-compressed tar archive into dir (created fresh). Only folders and regular
// files are accepted, each name must stay inside dir, and modes keep only the permission bits a
// layer needs; set-id bits and links are refused rather than trusted.
func extract(data []byte, dir string) (files []string, err error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not a gzip file: %w", err)
	}
	tr := tar.NewReader(zr)
	var total int64
	for {
		header, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading the archive: %w", err)
		}
		name := path.Clean(strings.TrimPrefix(header.Name, "./"))
		if name == "." {
			continue
		}
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return nil, fmt.Errorf("archive entry %q points outside the layer", header.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		switch header.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return nil, err
			}
		case tar.TypeReg:
			total += header.Size
			if total > maxExtractedBytes {
				return nil, fmt.Errorf("the archive unpacks to more than %d bytes", maxExtractedBytes)
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return nil, err
			}
			mode := os.FileMode(0o644)
			if header.Mode&0o111 != 0 {
				mode = 0o755
			}
			if err := writeEntry(target, tr, mode); err != nil {
				return nil, err
			}
			files = append(files, name)
		default:
			return nil, fmt.Errorf("archive entry %q is not a file or folder (type %q)", header.Name, header.Typeflag)
		}
	}
}

// writeEntry creates a new file (never following or replacing an existing one) with the entry's bytes.
func writeEntry(target string, content io.Reader, mode os.FileMode) error {
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, content); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// install verifies the dependency's archive and unpacks it into layerDir, which is emptied first.
// A failure removes the half-made layer folder.
func install(buildpackDir string, dep map[string]string, layerDir string) ([]string, error) {
	file, err := archivePath(buildpackDir, dep["uri"])
	if err != nil {
		return nil, err
	}
	data, err := readVerified(file, dep["checksum"])
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(layerDir); err != nil {
		return nil, err
	}
	files, err := extract(data, layerDir)
	if err != nil {
		os.RemoveAll(layerDir)
		return nil, fmt.Errorf("unpacking %s: %w", file, err)
	}
	return files, nil
}

// runInstalled starts the installed program once and returns what it printed: the proof that the
// dependency runs on this target. Under emulation this program runs emulated too.
func runInstalled(program string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, program).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s does not run here: %v (output: %q)", program, err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}
