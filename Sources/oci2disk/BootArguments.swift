import GuestContract
import ArgumentParser
import Boot
import Convert
import Foundation
import ImageSource

/// Kernel, init and run settings for `convert`.
struct BootArguments: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "A Debian/Ubuntu linux-image-*.deb to boot (default: the image's kernel in system mode, else the one `oci2disk fetch-kernel` downloads).",
            valueName: "deb"))
    var kernelPackage: String?

    @Option(help: ArgumentHelp("A kernel image to boot.", valueName: "vmlinuz"))
    var kernel: String?

    @Option(
        help: ArgumentHelp(
            "A container image (any source) holding the kernel to boot: /boot/vmlinuz-RELEASE with /lib/modules/RELEASE, or /kernel.",
            valueName: "source"))
    var kernelImage: String?

    @Option(help: ArgumentHelp("The kernel's /lib/modules/VERSION folder (not needed when its drivers are built in).", valueName: "dir"))
    var modules: String?

    @Flag(help: "Write a data disk: the root filesystem only, no kernel or bootloader.")
    var noKernel = false

    @Option(
        name: .customLong("init"),
        help: "app: run the image's command; system: boot the image's own init (default: system when the image has one and a kernel).")
    var initMode: InitConfig.Mode?

    @OptionGroup var settings: RunSettingsArguments

    @Option(help: ArgumentHelp("Text to add to the kernel command line.", valueName: "text"))
    var append = ""

    @Flag(
        help:
            "At boot, grow the root partition and its ext4 to the end of the disk (after `qemu-img resize` or a bigger volume); nothing happens once it fills the disk."
    )
    var growRoot = false

    /// Whether any option here asks for a bootable disk.
    var requestsBoot: Bool {
        kernelPackage != nil || kernel != nil || kernelImage != nil || modules != nil || initMode != nil || !settings.isEmpty || !append.isEmpty || growRoot
    }

    func validate() throws {
        try settings.validate()
        let kernels = [kernelPackage != nil, kernel != nil, kernelImage != nil, noKernel].filter { $0 }.count
        if kernels > 1 { throw ValidationError("Give at most one of --kernel-package, --kernel, --kernel-image and --no-kernel.") }
        if let kernelImage, (try? SourceReference(parsing: kernelImage)) == nil {
            throw ValidationError("--kernel-image takes an image source (oci:DIR, docker://HOST/REPO:TAG, …), got \"\(kernelImage)\".")
        }
        if modules != nil && kernel == nil { throw ValidationError("--modules goes with --kernel.") }
        if noKernel && requestsBoot { throw ValidationError("--no-kernel writes a data disk: drop the kernel and init options.") }
    }

    func options() throws -> BootOptions {
        var options = HostAssets.bootOptions()
        if noKernel {
            options.kernel = .none
        } else if let kernelPackage {
            options.kernel = .package(kernelPackage)
        } else if let kernel {
            options.kernel = .files(kernel: kernel, modules: modules)
        } else if let kernelImage {
            options.kernel = .image(try SourceReference(parsing: kernelImage))
        }
        options.mode = initMode
        options.overrides = try settings.overrides()
        options.append = append
        options.growRoot = growRoot
        return options
    }
}

extension InitConfig.Mode: ExpressibleByArgument {}
