// Command go-tar is a test oracle: it writes tar bytes with Go's archive/tar, the writer pack and
// the lifecycle use, so polypack's tests can compare its layers with what Go (and pack) writes
// instead of with polypack's own earlier output. It uses the standard library only.
//
//	go-tar headers < entries.json   writes each entry's header (and content) with a fresh tar.Writer
//	                                 whose format Go chooses itself; no closing blocks.
//	go-tar pack-dir DIR PARENT ID VERSION
//	                                 writes the layer pack v0.40 writes for a buildpack folder: the
//	                                 folder read into a tar the way pack's archive.WriteDirToTar reads
//	                                 it (sorted walk, hard links by inode, normalised owner and time),
//	                                 then that tar rewritten as pack's buildpack.toDistTar rewrites it
//	                                 (two directory entries, names and hard link targets under
//	                                 PARENT/ID/VERSION, pack's modes, the header read back kept with
//	                                 its format), and the closing blocks.
//	go-tar pack-flatten ID=TAR...    writes the layer pack v0.40's --flatten writes (its
//	                                 BuildModuleWriter.NToLayerTar): each module's layer tar read
//	                                 with tar.Reader and its headers written again with tar.Writer,
//	                                 in the order given, skipping a /cnb/buildpacks/ID folder an
//	                                 earlier module already wrote, and the closing blocks.
package main

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// The time pack gives every entry (archive.NormalizedDateTime).
var normalized = time.Date(1980, time.January, 1, 0, 0, 1, 0, time.UTC)

type entry struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Mode     int64  `json:"mode"`
	Size     int64  `json:"size"`
	Mtime    int64  `json:"mtime"`
	Linkname string `json:"linkname"`
	Content  string `json:"content"` // base64; absent means the header only
}

func main() {
	var err error
	switch {
	case len(os.Args) == 2 && os.Args[1] == "headers":
		err = headers(os.Stdin, os.Stdout)
	case len(os.Args) == 6 && os.Args[1] == "pack-dir":
		err = packDir(os.Args[2], os.Args[3], os.Args[4], os.Args[5], os.Stdout)
	case len(os.Args) > 2 && os.Args[1] == "pack-flatten":
		err = packFlatten(os.Args[2:], os.Stdout)
	default:
		err = fmt.Errorf("usage: go-tar headers | go-tar pack-dir DIR PARENT ID VERSION")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func headers(in io.Reader, out io.Writer) error {
	var entries []entry
	if err := json.NewDecoder(in).Decode(&entries); err != nil {
		return err
	}
	flags := map[string]byte{"file": tar.TypeReg, "directory": tar.TypeDir, "symlink": tar.TypeSymlink, "hardlink": tar.TypeLink}
	for _, e := range entries {
		// One writer per entry: a header-only entry leaves its writer expecting content.
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		hdr := &tar.Header{Typeflag: flags[e.Type], Name: e.Name, Linkname: e.Linkname, Mode: e.Mode, Size: e.Size, ModTime: time.Unix(e.Mtime, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("%s: %w", e.Name, err)
		}
		if e.Content != "" {
			content, err := base64.StdEncoding.DecodeString(e.Content)
			if err != nil {
				return err
			}
			if _, err := tw.Write(content); err != nil {
				return err
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		if _, err := out.Write(buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// readDir is the first pass: the folder as a tar with names relative to it.
func readDir(dir string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	firstPathOfInode := map[uint64]string{}
	err := filepath.Walk(dir, func(file string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, file)
		if err != nil || rel == "." {
			return err
		}
		link := ""
		if fi.Mode()&os.ModeSymlink != 0 {
			if link, err = os.Readlink(file); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if st := fi.Sys().(*syscall.Stat_t); st.Nlink > 1 {
			if first, ok := firstPathOfInode[st.Ino]; ok {
				hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			} else {
				firstPathOfInode[st.Ino] = hdr.Name
			}
		}
		hdr.ModTime, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = normalized, 0, 0, "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if fi.Mode().IsRegular() && hdr.Size > 0 {
			content, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			_, err = tw.Write(content)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = tw.Close()
	return buf.Bytes(), err
}

// packDir is the second pass, pack's toDistTar over the first pass's tar.
func packDir(dir, parent, id, version string, out io.Writer) error {
	blob, err := readDir(dir)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(out)
	idDir := path.Join(parent, strings.ReplaceAll(id, "/", "_"))
	base := path.Join(idDir, version)
	for _, name := range []string{idDir, base} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0755, ModTime: normalized}); err != nil {
			return err
		}
	}
	tr := tar.NewReader(bytes.NewReader(blob))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		hdr.ModTime, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = normalized, 0, 0, "", ""
		hdr.Name = path.Clean(hdr.Name)
		hdr.Mode = packMode(hdr)
		hdr.Name = path.Join(base, hdr.Name)
		if hdr.Typeflag == tar.TypeLink {
			hdr.Linkname = path.Join(base, path.Clean(hdr.Linkname))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("%s: %w", hdr.Name, err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
	return tw.Close()
}

// packFlatten is pack's NToLayerTar over module layer tars given as ID=FILE.
func packFlatten(modules []string, out io.Writer) error {
	tw := tar.NewWriter(out)
	parentFolderAdded := map[string]bool{}
	for _, module := range modules {
		id, file, ok := strings.Cut(module, "=")
		if !ok {
			return fmt.Errorf("%s: want ID=FILE", module)
		}
		blob, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		tr := tar.NewReader(bytes.NewReader(blob))
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			if parentFolderAdded[hdr.Name] {
				continue
			}
			if err := tw.WriteHeader(hdr); err != nil {
				return fmt.Errorf("%s: %w", hdr.Name, err)
			}
			if _, err := io.Copy(tw, tr); err != nil {
				return err
			}
		}
		parentFolderAdded[path.Join("/cnb", "buildpacks", strings.ReplaceAll(id, "/", "_"))] = true
	}
	return tw.Close()
}

// packMode is pack's calcFileMode: 0755 for folders, the buildpack's executables and anything with
// an execute bit, else 0644.
func packMode(hdr *tar.Header) int64 {
	switch {
	case hdr.Typeflag == tar.TypeDir, hdr.Name == "bin/build", hdr.Name == "bin/detect", hdr.Name == "bin/generate", hdr.Mode&0111 != 0:
		return 0755
	}
	return 0644
}
