/**
 * Every error code polypack reports, in one table: what it means, the exit status it gives and what
 * the user can do about it. `ErrorCode` is derived from the table, so a code that is not listed here
 * does not compile; docs/errors.md is generated from it (scripts/errors-doc.sh) and a unit test
 * keeps the two equal. Codes are part of the interface: scripts match on them, so renaming one is a
 * breaking change recorded in docs/errors.md under "Renamed codes".
 */

/**
 * How a run that failed with a code ends: 1 for a problem the user can fix (input, environment,
 * network, a registry), 2 for a command line that asks for something impossible, 70 for a bug in
 * polypack, `128+signal` for a run stopped by a signal (130 for SIGINT, 143 for SIGTERM).
 */
export type ExitStatus = 1 | 2 | 70 | "128+signal";

/**
 * The status of a command line that cannot work as written: the usage codes below, and the
 * parser's own refusals (an unknown option, a missing argument): COMMAND_LINE_INVALID.
 */
export const USAGE_EXIT_STATUS = 2;

/** The hint of every internal code: there is nothing to fix but polypack. */
export const BUG_REPORT = "this is a bug in polypack; please report it with the command you ran";

/** One row of the catalogue. Internal codes, and only they, exit 70 and ask for a bug report. */
export type CatalogueEntry = {
  /** What went wrong, in one sentence. */
  readonly meaning: string;
  /** The hint printed when the code that throws gives none: what to do next. */
  readonly hint: string;
} & ({ readonly exit: 70; readonly internal: true } | { readonly exit: Exclude<ExitStatus, 70> });

/** The catalogue itself, grouped by the part of polypack that reports each code. */
export const CATALOGUE = {
  // Polypack itself and the command line.
  INTERNAL: {
    meaning: "polypack reached a state it should never reach, or an unexpected exception escaped: a bug",
    exit: 70,
    internal: true,
    hint: BUG_REPORT,
  },
  INTERRUPTED: {
    meaning: "SIGINT or SIGTERM stopped the run; temporary files and locks were removed",
    exit: "128+signal",
    hint: "run the command again; nothing half-written was left behind",
  },
  COMMAND_LINE_INVALID: {
    meaning: "the parser refused the command line: an unknown command or flag, a missing argument or value",
    exit: USAGE_EXIT_STATUS,
    hint: "run the command with --help for its arguments, flags and examples",
  },
  FLAGS_CONFLICT: {
    meaning: "two command-line flags ask for things that cannot both be done",
    exit: USAGE_EXIT_STATUS,
    hint: "drop one of the flags the message names",
  },
  CONCURRENCY_INVALID: {
    meaning: "a concurrency limit is not a whole number of at least 1",
    exit: 1,
    hint: "give a whole number of at least 1",
  },
  FLAG_INVALID: {
    meaning: "a command-line flag has a value it cannot take (a number out of range, an unknown word)",
    exit: USAGE_EXIT_STATUS,
    hint: "give the flag one of the values the message names",
  },
  FORMAT_INVALID: {
    meaning: "--format names an output format polypack does not write",
    exit: USAGE_EXIT_STATUS,
    hint: "use file (.cnb), layout (OCI image layout directory) or image (push to a registry)",
  },
  OUTPUT_REQUIRED: {
    meaning: "the command line does not say where the result goes",
    exit: USAGE_EXIT_STATUS,
    hint: "add --output, or --publish to push to a registry",
  },
  TAG_INVALID: {
    meaning: "a --tag is neither a bare tag nor a reference to the repository being pushed",
    exit: USAGE_EXIT_STATUS,
    hint: "give a bare tag such as 1.2.3, or a reference to the same repository",
  },
  TARGET_INVALID: {
    meaning: "a --target value cannot be read as os/arch[/variant][:distro@version]",
    exit: USAGE_EXIT_STATUS,
    hint: "write the target as os/arch[/variant][:distro@version], for example linux/arm64",
  },
  ENDPOINT_INVALID: {
    meaning: "an image location on the command line names no path or reference",
    exit: USAGE_EXIT_STATUS,
    hint: "write docker://REF, oci:DIR[:REF], oci-archive:FILE[:REF] or a plain reference or path",
  },
  PUBLISH_REQUIRED: {
    meaning:
      "--format image without --publish asks for a Docker daemon, which polypack does not use (pack writes there)",
    exit: USAGE_EXIT_STATUS,
    hint: "add --publish to push to a registry, or write --format layout --output DIR or --format file",
  },
  IMAGE_PULL_REFUSED: {
    meaning: "--pull-policy never forbids reading an image dependency from its registry",
    exit: 1,
    hint: "use --pull-policy always, or point the dependency at a local .cnb file or OCI layout",
  },
  LABEL_INVALID: {
    meaning: "a --label is not NAME=VALUE, is given twice, or names a label polypack writes itself",
    exit: USAGE_EXIT_STATUS,
    hint: "give each label once as NAME=VALUE",
  },

  // Local files and size limits.
  PATH_NOT_FOUND: {
    meaning: "a file or folder polypack was pointed at does not exist or is not of the expected kind",
    exit: 1,
    hint: "check the path in the message (and, for a path from a file, what it is relative to)",
  },
  PATH_UNREADABLE: {
    meaning: "a file or folder polypack was pointed at exists but cannot be read",
    exit: 1,
    hint: "check the permissions of the path in the message",
  },
  OUTPUT_INVALID: {
    meaning:
      "the output is something polypack will not replace or write into: a link, a device, a folder for a .cnb, or a file of the buildpack itself",
    exit: 1,
    hint: "name a new path, an existing regular file, or a layout folder for --output",
  },
  OUTPUT_UNWRITABLE: {
    meaning: "the file system refuses the output (read-only, no permission, no space, not a folder)",
    exit: 1,
    hint: "choose an output on a writable file system, or free space there",
  },
  CACHE_DIR_UNWRITABLE: {
    meaning: "the layer or dependency cache folder cannot be created or written",
    exit: 1,
    hint: "point POLYPACK_CACHE_DIR (or --cache-dir) at a writable folder",
  },
  SCRATCH_UNWRITABLE: {
    meaning: "the temporary folder where a registry push spools its layers (TMPDIR) cannot be written",
    exit: 1,
    hint: "set TMPDIR to a writable folder with room for the package's layers",
  },
  PATH_ESCAPE: {
    meaning: "an archive entry points outside the archive's root; the archive was not extracted",
    exit: 1,
    hint: "the archive is malformed or hostile; get it again from a source you trust",
  },
  SIZE_EXCEEDED: {
    meaning:
      "content (a manifest, config, layout file, layer entry or response body) is larger than polypack's cap for it",
    exit: 1,
    hint: "the source holds something larger than any valid one; check that it is what you meant",
  },

  // OCI content: digests, descriptors, manifests, configs.
  DIGEST_INVALID: {
    meaning: "a digest is not algorithm:hex with a supported algorithm and the right length",
    exit: 1,
    hint: "write digests as sha256:<64 hex digits>",
  },
  DIGEST_MISMATCH: {
    meaning: "content does not hash to the digest that names it: it was damaged or altered",
    exit: 1,
    hint: "the source holds damaged content; repair or re-create it, then run again",
  },
  SIZE_MISMATCH: {
    meaning: "content has a size other than the one its descriptor declares",
    exit: 1,
    hint: "the source holds damaged content; repair or re-create it, then run again",
  },
  DESCRIPTOR_INVALID: {
    meaning: "an OCI descriptor lacks a media type, digest or size, or has one of the wrong type",
    exit: 1,
    hint: "the manifest or index holding it is malformed; re-create it",
  },
  PLATFORM_INVALID: {
    meaning: "a platform is not os/arch[/variant] with names polypack knows",
    exit: 1,
    hint: "use Go's names, for example linux/amd64 or linux/arm64/v8",
  },
  MANIFEST_INVALID: {
    meaning: "a manifest or index is not valid JSON of the expected shape",
    exit: 1,
    hint: "the image source is malformed; re-create or re-push it",
  },
  MANIFEST_UNSUPPORTED: {
    meaning: "a manifest has a media type or schema version polypack does not read",
    exit: 1,
    hint: "polypack reads OCI and Docker v2 schema 2 images and indexes",
  },
  MANIFEST_PLATFORM_DUPLICATE: {
    meaning: "two sources of one index hold an image for the same platform",
    exit: 1,
    hint: "an index lists each platform once; drop one of the sources",
  },
  MANIFEST_NESTED_INDEX: {
    meaning: "an index would list another index as an entry, which the manifest verbs do not allow",
    exit: 1,
    hint: "name the images themselves, or give the index as a source so that its images are listed",
  },
  MANIFEST_PLATFORM_MISMATCH: {
    meaning: "an index entry's platform disagrees with the platform its image's config declares",
    exit: 1,
    hint: "fix the entry with manifest annotate (--os, --arch, --variant), or list the right image",
  },
  MANIFEST_CHILDREN_DIFFER: {
    meaning: "the images of one index are different buildpacks or builders (id, version, order, lifecycle)",
    exit: 1,
    hint: "join only the per-platform images of one buildpack or builder version",
  },
  MANIFEST_DOCKER_INCOMPATIBLE: {
    meaning: "--format docker was asked for an index that uses what a Docker manifest list cannot hold",
    exit: 1,
    hint: "use --format oci, or drop the annotations and list Docker-format images only",
  },
  MANIFEST_ENTRY_NOT_FOUND: {
    meaning: "manifest annotate or rm names an image the index does not list",
    exit: 1,
    hint: "run manifest inspect INDEX to see the digests it lists",
  },
  MANIFEST_LOCAL_NOT_FOUND: {
    meaning: "no index of that name is kept in the local index store",
    exit: 1,
    hint: "create it with manifest create INDEX SRC..., or add --publish to edit the published index",
  },
  MANIFEST_LOCAL_EXISTS: {
    meaning: "manifest create would replace a different index kept under that name in the local store",
    exit: 1,
    hint: "edit it with manifest add/annotate/rm, or delete it first with manifest remove INDEX",
  },
  MANIFEST_LOCAL_INVALID: {
    meaning: "an index record of the local index store is damaged or was not written by polypack",
    exit: 1,
    hint: "delete it with manifest remove INDEX and create it again",
  },
  CONFIG_INVALID: {
    meaning: "an image config is not a JSON object",
    exit: 1,
    hint: "the image source is malformed; re-create or re-push it",
  },
  REFERENCE_INVALID: {
    meaning: "an image reference cannot be parsed",
    exit: 1,
    hint: "write [registry[:port]/]repository[:tag][@digest], for example ghcr.io/org/buildpack:1.0",
  },
  IMAGE_NOT_FOUND: {
    meaning: "an image source (a layout, a .cnb file, an index) holds no image at all",
    exit: 1,
    hint: "point at a source that holds at least one image",
  },
  DESTINATION_BLOB_INVALID: {
    meaning: "a destination already holds a blob with the wrong size and keeps it when written again",
    exit: 1,
    hint: "remove the damaged blob from the destination's storage, then write again",
  },

  // OCI image layouts and .cnb files.
  LAYOUT_INVALID: {
    meaning: "a directory or .cnb file is not a valid OCI image layout",
    exit: 1,
    hint: "the directory or archive is not a valid OCI image layout; re-create it",
  },
  BLOB_NOT_FOUND: {
    meaning: "a layout or .cnb file lacks a blob its manifests point at",
    exit: 1,
    hint: "the layout is incomplete; re-create it or copy the image into it again",
  },
  REF_NOT_FOUND: {
    meaning: "a layout has no image with the ref name asked for",
    exit: 1,
    hint: "use one of the ref names the layout holds",
  },
  REF_REQUIRED: {
    meaning: "a layout holds several images and none was named",
    exit: 1,
    hint: "add :REF to the path to say which image",
  },
  REF_AMBIGUOUS: {
    meaning: "a layout gives one ref name to different images",
    exit: 1,
    hint: "remove the duplicate entry from the layout's index.json",
  },

  // Layers: tar archives being written or read.
  LAYER_INVALID: {
    meaning: "a layer is not a valid (optionally gzip-compressed) tar archive",
    exit: 1,
    hint: "the layer is damaged; re-create the image that holds it",
  },
  LAYER_PATH_INVALID: {
    meaning: "a path to write into a layer is empty, holds a NUL byte or climbs out of the root",
    exit: 1,
    hint: "paths must name something below the archive root and may not climb out of it with ..",
  },
  LAYER_ENTRY_INVALID: {
    meaning: "a layer entry sits below something that is not a folder, or is a hard link to no earlier file",
    exit: 1,
    hint: "fix the files the message names so each sits in a real folder",
  },
  LAYER_DUPLICATE_PATH: {
    meaning: "two entries of one layer have the same path",
    exit: 1,
    hint: "make sure no two inputs put a file at the same place in the image",
  },
  LAYER_UNSUPPORTED_FILE: {
    meaning: "a socket, pipe or device was found where files go into a layer",
    exit: 1,
    hint: "remove it from the folder being packaged",
  },
  LAYER_SIZE_MISMATCH: {
    meaning: "a file going into a layer had a size other than the one it was planned with",
    exit: 1,
    hint: "a file changed while the layer was being written; run again",
  },
  LAYER_SOURCE_CHANGED: {
    meaning: "a file changed while it was being written into a layer",
    exit: 1,
    hint: "something modified the file during packaging; run again",
  },
  LAYER_OPTIONS_INVALID: {
    meaning:
      "layer writing options (segment size, gzip member size, parallelism, media types) are out of range",
    exit: 1,
    hint: "use the documented range for the option the message names",
  },
  LAYER_CACHE_WRITE_FAILED: {
    meaning: "a compressed piece of a layer could not be stored in the layer cache",
    exit: 1,
    hint: "check that the cache directory is writable and has space, or run with --no-layer-cache",
  },
  COMPRESSION_LEVEL_INVALID: {
    meaning: "a gzip level is not a whole number from 0 to 9",
    exit: 1,
    hint: "use a gzip level from 0 (none) to 9 (smallest)",
  },
  SOURCE_DATE_EPOCH_INVALID: {
    meaning: "SOURCE_DATE_EPOCH is not a whole number of seconds in range",
    exit: 1,
    hint: "set it to whole seconds since 1970-01-01, or unset it",
  },

  // Registries: answers, authentication, credentials.
  REGISTRY_UNAUTHORIZED: {
    meaning: "the registry wants credentials that were not given or that it refused",
    exit: 1,
    hint: "check the credentials for this registry (docker login)",
  },
  REGISTRY_DENIED: {
    meaning: "the registry accepted the credentials but refused the operation",
    exit: 1,
    hint: "the credentials lack permission for this repository",
  },
  REGISTRY_NOT_FOUND: {
    meaning: "the registry has no such repository, tag, manifest or blob (it answered 404)",
    exit: 1,
    hint: "check the repository name, tag or digest",
  },
  REGISTRY_UNAVAILABLE: {
    meaning: "the registry could not be reached or kept failing (network errors, 5xx, 429) after retries",
    exit: 1,
    hint: "check the address and the network, then run again",
  },
  REGISTRY_TLS_UNTRUSTED: {
    meaning: "the registry's TLS certificate is not trusted",
    exit: 1,
    hint: "trust its certificate authority with --ca-file, or use --insecure-registry for a test registry",
  },
  REGISTRY_TLS_FAILED: {
    meaning: "the TLS handshake with the registry failed, or it does not speak TLS on that port",
    exit: 1,
    hint: "check the port; a plain-HTTP test registry needs --insecure-registry",
  },
  REGISTRY_ERROR: {
    meaning:
      "the registry gave an answer polypack cannot use (an unexpected status or a broken protocol step)",
    exit: 1,
    hint: "the registry's own words are in the message; check its logs or documentation",
  },
  AUTH_REALM_REFUSED: {
    meaning: "the registry sends token requests somewhere polypack will not send credentials",
    exit: 1,
    hint: "polypack sends credentials to a token server only over https, and never to a local or private address a remote registry names",
  },
  AUTH_TOKEN_INVALID: {
    meaning: "a registry's token server answered without a usable token",
    exit: 1,
    hint: "check the token server's logs; the credentials may be for a different service",
  },
  CREDENTIALS_INVALID: {
    meaning: "a credentials file, environment variable pair or flag pair cannot be understood",
    exit: 1,
    hint: "fix or remove the entry, or log in again to rewrite it",
  },
  CREDENTIALS_REGISTRY_REQUIRED: {
    meaning: "credentials were given without the registry they belong to",
    exit: 1,
    hint: "name the registry (for example POLYPACK_REGISTRY=ghcr.io) so the password is sent only there",
  },
  CREDENTIAL_HELPER_FAILED: {
    meaning: "a Docker credential helper could not be run or did not answer with credentials",
    exit: 1,
    hint: "check that the helper is installed and on PATH, and that it works when run by hand",
  },

  // buildpack.toml, extension.toml and package.toml.
  BUILDPACK_TOML_INVALID: {
    meaning: "buildpack.toml or extension.toml is not valid TOML or has a value of the wrong type",
    exit: 1,
    hint: "fix the file at the line the message names",
  },
  BUILDPACK_API_UNSUPPORTED: {
    meaning: "a buildpack or extension declares no Buildpack API, or one polypack does not read",
    exit: 1,
    hint: 'declare a supported api, for example api = "0.10"',
  },
  BUILDPACK_ID_INVALID: {
    meaning: "a buildpack or extension id is missing, malformed or reserved",
    exit: 1,
    hint: "use an id of letters, digits, '.', '-' and '/', such as example/hello",
  },
  BUILDPACK_VERSION_INVALID: {
    meaning:
      "a buildpack or extension version is not one folder name (empty, '.', '..', a '/' or a control character)",
    exit: 1,
    hint: "use a version such as 1.2.3",
  },
  BUILDPACK_VERSION_MISSING: {
    meaning: "a buildpack or extension has no version",
    exit: 1,
    hint: 'add version = "1.0.0" to [buildpack]',
  },
  BUILDPACK_ORDER_INVALID: {
    meaning: "an [[order]] group entry lacks the id of the buildpack it names",
    exit: 1,
    hint: "give every [[order.group]] entry an id",
  },
  BUILDPACK_ORDER_CONFLICT: {
    meaning: "a descriptor declares [[order]] together with something an order excludes",
    exit: 1,
    hint: "a composite buildpack has only [[order]]; an extension has none",
  },
  BUILDPACK_TARGET_INVALID: {
    meaning: "a [[targets]] entry of buildpack.toml names an unknown platform or contradicts itself",
    exit: 1,
    hint: "use Go's names for os and arch, for example linux and arm64",
  },
  BUILDPACK_TARGET_DUPLICATE: {
    meaning: "two [[targets]] entries of buildpack.toml are the same target",
    exit: 1,
    hint: "remove one of the two [[targets]] entries",
  },
  PACKAGE_TOML_INVALID: {
    meaning: "package.toml is not valid TOML, has a value of the wrong type or lacks a required key",
    exit: 1,
    hint: "fix the file at the line the message names",
  },
  PACKAGE_TARGET_INVALID: {
    meaning: "a [[targets]] entry of package.toml names an unknown platform or contradicts itself",
    exit: 1,
    hint: "use Go's names for os and arch, for example linux and arm64",
  },
  PACKAGE_TARGET_DUPLICATE: {
    meaning: "two [[targets]] entries of package.toml are the same target",
    exit: 1,
    hint: "remove one of the two [[targets]] entries",
  },
  PACKAGE_KIND_MISMATCH: {
    meaning: "a buildpack was given to `extension package`, or an extension to `buildpack package`",
    exit: 1,
    hint: "use the package command that matches the descriptor",
  },
  BUILDPACK_URI_UNSUPPORTED: {
    meaning: "package.toml's [buildpack] uri is not a local folder",
    exit: 1,
    hint: 'point uri at the folder holding buildpack.toml, for example uri = "."',
  },
  TARGET_ENV_INVALID: {
    meaning: "CNB_TARGET_OS, CNB_TARGET_ARCH or BP_ARCH names no known platform",
    exit: 1,
    hint: "use Go's names, for example linux, amd64, arm64",
  },

  // Packaging a buildpack, extension or composite.
  TARGET_NOT_DECLARED: {
    meaning: "a --target is not among the targets the buildpack or package.toml declares",
    exit: 1,
    hint: "choose a declared target, or declare it in [[targets]]",
  },
  TARGET_DUPLICATE: {
    meaning: "two targets would become images for the same platform, which an index cannot tell apart",
    exit: 1,
    hint: "package the two targets separately, or give their distros different versions",
  },
  BUILDPACK_TARGET_BINARIES_MISSING: {
    meaning: "a target lacks the executables (bin/build, bin/detect) a buildpack needs",
    exit: 1,
    hint: "build the executables for the target (pre-package can do it), or drop the target",
  },
  BUILDPACK_INCLUDE_FILE_MISSING: {
    meaning: "[metadata] include-files names files that do not exist for a target",
    exit: 1,
    hint: "create the files (is pre-package building them?) or remove them from include-files",
  },
  PRE_PACKAGE_FAILED: {
    meaning: "the [metadata] pre-package command failed",
    exit: 1,
    hint: "its output is above; fix the script or run it by hand from the buildpack directory",
  },
  BUILDPACKAGE_INVALID: {
    meaning: "an image used as a buildpackage lacks the buildpack labels, or has malformed ones",
    exit: 1,
    hint: "point at an image made by `buildpack package` (or pack)",
  },
  COMPOSITE_DEPENDENCY_MISSING: {
    meaning: "a composite's order names a buildpack none of package.toml's dependencies holds",
    exit: 1,
    hint: "add the buildpack to [[dependencies]] in package.toml",
  },
  COMPOSITE_ORDER_VERSION_MISSING: {
    meaning: "an [[order.group]] entry of a composite being packaged names a buildpack without its version",
    exit: 1,
    hint: 'add version = "..." to the entry the message names',
  },
  COMPOSITE_DEPENDENCY_UNUSED: {
    meaning: "a buildpack package.toml's dependencies bring in is not used by any order of the composite",
    exit: 1,
    hint: "add it to an [[order.group]], or remove the dependency from package.toml",
  },
  COMPOSITE_STACKS_INCOMPATIBLE: {
    meaning: "the buildpacks of a composite share no stack",
    exit: 1,
    hint: "include buildpacks that support a common stack, or that declare targets instead of stacks",
  },
  BUILDPACK_REGISTRY_LOOKUP_FAILED: {
    meaning: "a urn:cnb:registry: dependency cannot be resolved through the buildpack registry index",
    exit: 1,
    hint: "pass -r/--buildpack-registry with a registry-index clone or URL that lists the buildpack",
  },
  COMPOSITE_PLATFORM_MISSING: {
    meaning: "a buildpack a composite depends on does not support one of the composite's targets",
    exit: 1,
    hint: "package that buildpack for this target too, or leave the target out",
  },

  // Builders: builder.toml, build and run images, lifecycles.
  BUILDER_CONFIG_INVALID: {
    meaning:
      "builder.toml is not valid: a syntax error, a missing or mistyped key, or a module it names is not where it says",
    exit: 1,
    hint: "fix the file and key named in the message",
  },
  BUILDER_ORDER_INVALID: {
    meaning:
      "an [[order]] (or system) entry names a buildpack or extension the builder does not hold for a target, or leaves out a version that is ambiguous",
    exit: 1,
    hint: "add the module to [[buildpacks]] or [[extensions]], give its version, or remove it from the order",
  },
  BUILDER_MODULE_PLATFORM_MISSING: {
    meaning:
      "with --strict, a buildpack or extension of the builder has no image for one of the builder's targets",
    exit: 1,
    hint: "publish the module for that platform, leave the target out, or drop --strict to leave the module out of that target",
  },
  BUILD_IMAGE_INVALID: {
    meaning:
      "the build image is not a CNB build image: CNB_USER_ID or CNB_GROUP_ID missing or not integers, or it runs as root",
    exit: 1,
    hint: "use a CNB build image (see `polypack stack create`)",
  },
  BUILD_IMAGE_PLATFORM_MISSING: {
    meaning: "the build image has no image for one of the builder's targets",
    exit: 1,
    hint: "use a build image published for that platform, or leave the target out",
  },
  RUN_IMAGE_PLATFORM_MISSING: {
    meaning: "a run image (or mirror) has no image for one of the builder's targets",
    exit: 1,
    hint: "publish the run image for that platform too, or leave the target out",
  },
  STACK_MISMATCH: {
    meaning:
      "build and run images (or the platforms of a stack) disagree on their distro, stack id or CNB user and group ids",
    exit: 1,
    hint: "use a build and run image pair made together",
  },
  LIFECYCLE_INVALID: {
    meaning:
      "a lifecycle archive or image lacks lifecycle.toml or one of the lifecycle programs, or its lifecycle.toml is malformed",
    exit: 1,
    hint: "use a lifecycle release archive (lifecycle-v<V>+linux.<arch>.tgz) or the lifecycle image",
  },
  LIFECYCLE_NOT_FOUND: {
    meaning:
      "the lifecycle release (archive or checksums file) could not be read from the releases or the mirror",
    exit: 1,
    hint: "check the lifecycle version and --lifecycle-mirror (or POLYPACK_LIFECYCLE_MIRROR)",
  },
  LIFECYCLE_PLATFORM_MISSING: {
    meaning:
      "there is no lifecycle for one of the builder's targets: no release for that architecture, or the lifecycle image lacks it",
    exit: 1,
    hint: "give [lifecycle] uri with an archive built for that platform, or leave the target out",
  },
  LIFECYCLE_ARCHITECTURE_MISMATCH: {
    meaning:
      "a lifecycle program is not built for the target it would be put into (its ELF machine says another architecture)",
    exit: 1,
    hint: "use the lifecycle built for that architecture; with a uri, put {arch} into it",
  },

  // Stacks: base images made by `stack create` and joined by `stack publish`.
  RUN_IMAGE_INVALID: {
    meaning: "a run image breaks the CNB platform spec: no PATH, or no os or architecture in its config",
    exit: 1,
    hint: "fix the run image's config, or make it with `polypack stack create`",
  },
  STACK_PLATFORM_MISSING: {
    meaning:
      "an image given to `stack create` or `stack publish` has no image for a platform the stack needs",
    exit: 1,
    hint: "drop the --target, or give an upstream image that has that platform",
  },
  STACK_USER_CONFLICT: {
    meaning: "the CNB user's or group's name or id is already taken in the image's /etc/passwd or /etc/group",
    exit: 1,
    hint: "choose a free --user-id or --group-id",
  },
  STACK_OS_RELEASE_MISSING: {
    meaning: "an upstream image has no /etc/os-release with an ID, so its distro labels cannot be set",
    exit: 1,
    hint: "use an upstream image that has /etc/os-release",
  },

  // Emulated tests: `polypack test`.
  TEST_SOURCE_INVALID: {
    meaning:
      "polypack test was given no buildpack it can run: no buildpack layers label, an image extension, or an order naming a missing buildpack",
    exit: 1,
    hint: "give a buildpack folder, a buildpack package (.cnb, layout or reference) or a builder",
  },
  EMULATOR_MISSING: {
    meaning: "proot, or the qemu-user program for a target's architecture, is not installed",
    exit: 1,
    hint: "install proot and qemu-user-static (Debian and Ubuntu: apt-get install proot qemu-user-static)",
  },
  EMULATION_UNSUPPORTED: {
    meaning:
      "a target cannot be run on this machine: not Linux, or an architecture qemu-user has no emulator for",
    exit: 1,
    hint: "leave the target out of --target",
  },
  TEST_FAILED: {
    meaning:
      "a target of polypack test failed: detection, a build, the architecture of a program the build wrote, or a missing platform",
    exit: 1,
    hint: "read the report above: it names the target, the buildpack and the file at fault",
  },

  // Buildpack dependencies: declaring, resolving, downloading, caching.
  DEPENDENCY_INVALID: {
    meaning: "a [[metadata.dependencies]] entry lacks an id or version, or has a malformed checksum or date",
    exit: 1,
    hint: "fix the entry at the line the message names",
  },
  DEPENDENCY_CONSTRAINT_INVALID: {
    meaning: "a dependency version constraint cannot be read",
    exit: 1,
    hint: 'write constraints such as "1.25.*", "~1.2.3", ">= 1.2, < 2" or "^20 || ^22"',
  },
  DEPENDENCY_VERSION_INVALID: {
    meaning: "a dependency's version is not a semantic version",
    exit: 1,
    hint: "dependency versions must be semantic versions such as 1.2.3",
  },
  DEPENDENCY_NOT_FOUND: {
    meaning: "no declared dependency matches the id, version constraint and target asked for",
    exit: 1,
    hint: "choose one of the versions the message lists, or add a [[metadata.dependencies]] entry",
  },
  DEPENDENCY_COVERAGE_INCOMPLETE: {
    meaning: "with --strict: a target lacks a dependency another target has",
    exit: 1,
    hint: "add the missing dependencies to buildpack.toml, or drop the target",
  },
  DEPENDENCY_CHECKSUM_MISSING: {
    meaning: "a dependency to package offline has no checksum to verify its download with",
    exit: 1,
    hint: 'add checksum = "sha256:<hex>" to the dependency',
  },
  DEPENDENCY_URI_MISSING: {
    meaning: "a dependency to package offline has no uri to download it from",
    exit: 1,
    hint: "add a uri to the dependency",
  },
  DEPENDENCY_URI_UNSUPPORTED: {
    meaning: "a dependency's uri uses a scheme polypack cannot fetch, or is not local where it must be",
    exit: 1,
    hint: "use an http:, https: or file: URI",
  },
  DEPENDENCY_DOWNLOAD_FAILED: {
    meaning: "a dependency could not be downloaded (network error, HTTP error, stalled transfer)",
    exit: 1,
    hint: "check the uri and the network, then run again",
  },
  DEPENDENCY_TRUNCATED: {
    meaning: "a dependency's download ended before all of its bytes arrived, after retries",
    exit: 1,
    hint: "check the network or the server, then run again",
  },
  DEPENDENCY_CHECKSUM_MISMATCH: {
    meaning: "a downloaded dependency does not match the checksum buildpack.toml declares",
    exit: 1,
    hint: "check the checksum in buildpack.toml, or whether the file at the uri changed",
  },
  DEPENDENCY_CACHE_WRITE_FAILED: {
    meaning: "a downloaded dependency could not be stored in the dependency cache",
    exit: 1,
    hint: "check that the cache directory is writable, or set POLYPACK_CACHE_DIR",
  },
  DEPENDENCY_CACHE_CORRUPT: {
    meaning: "a dependency cache entry changed on disk after it was stored; it has been removed",
    exit: 1,
    hint: "run again to download it afresh",
  },
  DEPENDENCY_NOT_CACHED: {
    meaning: "polypack asked its dependency cache for an entry it had not stored",
    exit: 70,
    internal: true,
    hint: BUG_REPORT,
  },
  DEPENDENCY_NOT_DOWNLOADED: {
    meaning: "a layer was planned with a dependency file that was never downloaded",
    exit: 70,
    internal: true,
    hint: BUG_REPORT,
  },

  // Dependency authoring: `polypack dependency add` and `update` editing buildpack.toml.
  DEPENDENCY_WRONG_ARCHITECTURE: {
    meaning:
      "a download for one target (or for a metadata.json entry's arch) holds programs for another architecture (named by its path inside the archive)",
    exit: 1,
    hint: "check the --uri template and --arch-name spellings for that target",
  },
  DEPENDENCY_ENTRY_CONFLICT: {
    meaning: "buildpack.toml already has an entry for this id, version and platform, with another checksum",
    exit: 1,
    hint: "remove the old entry first if the file at the uri really changed",
  },
  DEPENDENCY_METADATA_INVALID: {
    meaning:
      "a metadata.json for `dependency update` is not a JSON array of dependency objects with id, version, uri and a checksum",
    exit: 1,
    hint: "fix the entry the message names",
  },
  DEPENDENCY_EDIT_UNSUPPORTED: {
    meaning:
      "buildpack.toml cannot be edited as text: its dependencies are not [[metadata.dependencies]] tables, or the edit did not read back as intended",
    exit: 1,
    hint: "write each dependency as a [[metadata.dependencies]] table, then run again",
  },

  // Verifying architectures and metadata; SBOMs.
  VERIFY_FAILED: {
    meaning:
      "a platform's image holds a program or dependency for another machine, or its config, labels or layers disagree",
    exit: 1,
    hint: "fix the files the findings name (or pass --allow PATTERN for files meant to be foreign); --no-verify skips the check",
  },
  SBOM_FAILED: {
    meaning: "an SBOM could not be made: a layer cannot be read, or no image has the platform asked for",
    exit: 1,
    hint: "check the reference and --platform; `polypack verify` names a damaged layer",
  },
} as const satisfies Record<string, CatalogueEntry>;

/** A stable error code: a key of the catalogue. */
export type ErrorCode = keyof typeof CATALOGUE;

/** Whether a string is a code of the catalogue (for codes read from outside, such as a test's list). */
export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(CATALOGUE, value);
}
