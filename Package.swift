// swift-tools-version:6.0
import PackageDescription

// One target per pipeline stage; C libraries are wrapped once, behind thin system-library targets.
let package = Package(
    name: "oci2disk",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "oci2disk", targets: ["oci2disk"]),
        .library(name: "Convert", targets: ["Convert"])
    ],
    // Pinned exactly: this is an application, and CI must build what was tested. (The usual
    // pin, a committed Package.resolved, cannot be used here: the build machines resolve these
    // packages from a local mirror whose commit ids differ from upstream's.)
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3")
    ],
    targets: [
        // C libraries (Debian: libarchive-dev, libext2fs-dev, libblkid-dev).
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CExt2fs", pkgConfig: "ext2fs", providers: [.apt(["libext2fs-dev", "comerr-dev"])]),
        .systemLibrary(name: "CBlkid", pkgConfig: "blkid", providers: [.apt(["libblkid-dev"])]),
        .systemLibrary(name: "CCrypt", pkgConfig: "libxcrypt", providers: [.apt(["libcrypt-dev"])]),
        // What Swift cannot import from libext2fs: a mutable C global, function-like macros.
        .target(name: "CExt2fsShim", dependencies: ["CExt2fs"], linkerSettings: [.linkedLibrary("com_err")]),
        // Linux calls glibc declares only under _GNU_SOURCE (copy_file_range, openat2, pipe2…).
        .target(name: "CLinux"),
        // The guest init and templates linked into the command-line binary (scripts/build-init
        // writes the header naming them; without it nothing is embedded).
        .target(name: "CEmbeddedAssets"),

        // 0. The one version of each low-level helper, Foundation-free so the guest init can use
        // it too: descriptor ownership, errno errors, full reads and writes, in-kernel copies,
        // process spawning and lookup, stop-signal handling.
        .target(name: "SystemBase", dependencies: ["CLinux"]),
        // 0b. The guest contract: the init's config file, the user/group rule, the default
        // environment. Shared by the init (which reads it), Boot (which writes it) and Bundle.
        .target(name: "GuestContract"),

        // libarchive behind one owner type: tar entries, decompression, archives of archives.
        .target(name: "Archive", dependencies: ["CArchive", "SystemBase"]),

        // 1. Image source: transports, blob stores, manifests, platform choice, digest checks.
        .target(name: "OCIModels", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "ImageSource", dependencies: ["OCIModels", "Archive", "SystemBase", .product(name: "Crypto", package: "swift-crypto")]),
        // 2. Layer flattening: OCI layer rules applied to an in-memory tree; file data spilled once.
        .target(name: "Flatten", dependencies: ["OCIModels", "Archive", "SystemBase", "CLinux"]),
        // 2a. The driver from 1 to 2: each layer read once (digest, decompression) on one thread
        // and applied on another. Only the commands' drivers (Convert, Bundle) link it.
        .target(name: "ImagePipeline", dependencies: ["ImageSource", "Flatten", "Archive", "OCIModels"]),
        // 2b. Logins added to the flattened tree: root's password, SSH keys, a login user.
        .target(name: "Provision", dependencies: ["Flatten", "Archive", "CCrypt"]),
        // 3. ext4 writer (libext2fs, in-process).
        .target(name: "Ext4", dependencies: ["Flatten", "Archive", "CExt2fs", "CExt2fsShim", "SystemBase"]),
        // 4. Disk: MBR, sizes, output files, probing.
        .target(name: "Disk", dependencies: ["CBlkid", "SystemBase"]),
        // 4b. Linux kernel images: what a file given as a kernel is, and the kernel inside a bzImage.
        .target(name: "LinuxKernel", dependencies: ["Archive"]),
        // 4c. Booting: kernel packages, module closure, initramfs, bootloader.
        .target(name: "Boot", dependencies: ["Archive", "OCIModels", "Flatten", "Disk", "LinuxKernel", "SystemBase", "GuestContract"]),
        // 5. Run: boot a disk in QEMU and return the guest program's exit status.
        .target(name: "Runner", dependencies: ["Disk", "Archive", "SystemBase", "LinuxKernel", .product(name: "Crypto", package: "swift-crypto")]),
        // 6. Bundle: the flattened image as an OCI runtime bundle (config.json + rootfs/) on the host.
        .target(name: "Bundle", dependencies: ["ImageSource", "ImagePipeline", "Flatten", "OCIModels", "SystemBase", "CLinux", "GuestContract"]),
        // The pipeline wired together, used by the command line.
        .target(
            name: "Convert",
            dependencies: [
                "ImageSource", "ImagePipeline", "SystemBase", "Flatten", "Provision", "Ext4", "Disk", "OCIModels", "Boot", "Archive", "GuestContract"
            ]),
        .executableTarget(
            name: "oci2disk",
            dependencies: [
                "Convert", "Provision", "Boot", "Runner", "Bundle", "ImageSource", "ImagePipeline", "OCIModels", "Disk", "SystemBase", "GuestContract",
                "CEmbeddedAssets",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]),

        // The guest init (PID 1 in the initramfs): Glibc only, no Foundation. Built fully static by
        // scripts/build-init (`swift build -c release --static-swift-stdlib` + `-static-executable`).
        // The flag is unconditional: with it the driver links the static runtime and glibc even in a
        // plain debug `swift build` / `swift build --build-tests` (checked), so no nested package or
        // environment switch is needed. No test target links it (its tests boot it: Tests/InitTests).
        // CInitShim holds the early constructor (mounts /proc, hands argc/argv to the Swift runtime)
        // and what Swift cannot call: raw syscalls, ioctls, port I/O, the fork/exec child.
        .target(name: "CInitShim"),
        .executableTarget(
            name: "oci2disk-init", dependencies: ["CInitShim", "SystemBase", "GuestContract"], path: "Sources/Init",
            // Stripped in release: beside `oci2disk` it goes into every initramfs, and debug
            // info would add a third to its size (and to the guest's boot time).
            linkerSettings: [.unsafeFlags(["-static-executable"]), .unsafeFlags(["-Xlinker", "--strip-all"], .when(configuration: .release))]),

        // The parsers of untrusted input as libFuzzer targets (scripts/fuzz builds them with
        // -sanitize=fuzzer,address and -DFUZZING); built plainly, a replayer of inputs.
        .executableTarget(
            name: "oci2disk-fuzz", dependencies: ["Archive", "Boot", "Disk", "Ext4", "Flatten", "ImageSource", "LinuxKernel", "OCIModels", "Provision"],
            path: "Sources/Fuzz"),

        .testTarget(name: "OCIModelsTests", dependencies: ["OCIModels"]),
        .testTarget(name: "ArchiveTests", dependencies: ["Archive"]),
        .testTarget(name: "ImageSourceTests", dependencies: ["ImageSource", "Archive", "OCIModels"]),
        .testTarget(name: "FlattenTests", dependencies: ["Flatten"]),
        .testTarget(name: "Ext4Tests", dependencies: ["Ext4", "Flatten", "Archive"]),
        .testTarget(name: "DiskTests", dependencies: ["Disk"]),
        .testTarget(name: "RunnerTests", dependencies: ["Runner", "Boot", "LinuxKernel"]),
        .testTarget(name: "BootTests", dependencies: ["Boot", "LinuxKernel", "OCIModels", "Flatten", "GuestContract"]),
        .testTarget(name: "LinuxKernelTests", dependencies: ["LinuxKernel"]),
        .testTarget(name: "ProvisionTests", dependencies: ["Provision", "Flatten", "Archive"]),
        .testTarget(name: "BundleTests", dependencies: ["Bundle", "Flatten", "Archive", "OCIModels", "CLinux", "GuestContract"]),
        .testTarget(name: "SystemBaseTests", dependencies: ["SystemBase"]),
        .testTarget(name: "ConvertTests", dependencies: ["Convert", "Disk", "Ext4", "OCIModels"]),
        .testTarget(name: "GuestContractTests", dependencies: ["GuestContract"])
    ]
)

// CI builds with warnings as errors (scripts/test sets OCI2DISK_WARNINGS_AS_ERRORS=1); a
// plain `swift build` keeps them warnings, so a newer compiler's new warning does not stop a
// user's build. Only this package's Swift targets: dependencies are not ours to fix.
if Context.environment["OCI2DISK_WARNINGS_AS_ERRORS"] == "1" {
    for target in package.targets where target.type != .system && !target.name.hasPrefix("C") {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-warnings-as-errors"])]
    }
}
