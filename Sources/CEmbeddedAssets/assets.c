// The guest init and the templates, linked into `oci2disk` so the binary works alone, copied
// anywhere. scripts/build-init writes .build-init/embedded-assets.h after building the init:
// the absolute paths of the files to embed and their digests. Including it makes the compiler
// track it, and the digests change when the files do, so this file is rebuilt with them.
// Without the header (a plain `swift build`) nothing is embedded and the command line falls
// back to files (OCI2DISK_INIT, the source tree's build folder).
//
// Why `.incbin` and not a generated Swift array or a SwiftPM resource: an 8 MB array literal
// takes the Swift compiler minutes, and resources are a second file beside the binary.
#include "embedded_assets.h"
#include <string.h>

#if __has_include("../../.build-init/embedded-assets.h")
#include "../../.build-init/embedded-assets.h"

#define OCI2DISK_EMBED(symbol, path)                                                             \
    __asm__(".pushsection .rodata.oci2disk_assets,\"a\",@progbits\n"                             \
            ".balign 16\n" #symbol "_start:\n"                                                     \
            ".incbin \"" path "\"\n" #symbol "_end:\n"                                             \
            ".byte 0\n"                                                                            \
            ".popsection\n");                                                                      \
    extern const unsigned char symbol##_start[], symbol##_end[];

OCI2DISK_EMBED(oci2disk_init, OCI2DISK_INIT_PATH)
OCI2DISK_EMBED(oci2disk_template_cmdline, OCI2DISK_TEMPLATES_DIR "/cmdline.txt")
OCI2DISK_EMBED(oci2disk_template_run_cmdline, OCI2DISK_TEMPLATES_DIR "/run-cmdline.txt")
OCI2DISK_EMBED(oci2disk_template_syslinux, OCI2DISK_TEMPLATES_DIR "/syslinux.cfg")

const unsigned char *oci2disk_embedded_init(size_t *size) {
    *size = (size_t)(oci2disk_init_end - oci2disk_init_start);
    return oci2disk_init_start;
}

const char *oci2disk_embedded_init_sha256(void) { return OCI2DISK_INIT_SHA256; }

const unsigned char *oci2disk_embedded_template(const char *name, size_t *size) {
    static const struct {
        const char *name;
        const unsigned char *start, *end;
    } templates[] = {
        {"cmdline.txt", oci2disk_template_cmdline_start, oci2disk_template_cmdline_end},
        {"run-cmdline.txt", oci2disk_template_run_cmdline_start, oci2disk_template_run_cmdline_end},
        {"syslinux.cfg", oci2disk_template_syslinux_start, oci2disk_template_syslinux_end},
    };
    for (size_t i = 0; i < sizeof templates / sizeof templates[0]; i++) {
        if (strcmp(templates[i].name, name) == 0) {
            *size = (size_t)(templates[i].end - templates[i].start);
            return templates[i].start;
        }
    }
    *size = 0;
    return NULL;
}

const char *oci2disk_embedded_version(void) { return OCI2DISK_VERSION; }

#else

const unsigned char *oci2disk_embedded_init(size_t *size) {
    *size = 0;
    return NULL;
}
const char *oci2disk_embedded_init_sha256(void) { return ""; }
const unsigned char *oci2disk_embedded_template(const char *name, size_t *size) {
    (void)name;
    *size = 0;
    return NULL;
}
const char *oci2disk_embedded_version(void) { return ""; }

#endif
