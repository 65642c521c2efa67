#ifndef OCI2DISK_EMBEDDED_ASSETS_H
#define OCI2DISK_EMBEDDED_ASSETS_H
#include <stddef.h>

/// The guest init built by scripts/build-init, linked into the binary; NULL (size 0) when
/// this binary was built without one (a plain `swift build` before scripts/build-init).
const unsigned char *oci2disk_embedded_init(size_t *size);
/// Its SHA-256 as build-init computed it (hex), or "" when none is embedded.
const char *oci2disk_embedded_init_sha256(void);
/// templates/NAME as it was at build time; NULL when not embedded.
const unsigned char *oci2disk_embedded_template(const char *name, size_t *size);
/// `git describe` of the tree the binary was built from, or "" when unknown.
const char *oci2disk_embedded_version(void);

#endif
