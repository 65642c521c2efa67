import Boot
import Flatten
import ImagePipeline
import ImageSource
import OCIModels

/// `--kernel-image SOURCE`: a kernel shipped as a container image, from any transport. The
/// image is flattened like any other (digests, layer rules), into a tree of its own; the
/// kernel is found at the documented places:
///
/// - `/boot/vmlinuz-RELEASE` with `/lib/modules/RELEASE/` (a distribution's layout; what a
///   KubeVirt kernelBoot image built from one holds), the newest release that has both;
/// - `/kernel` (LinuxKit's name) with `/lib/modules/RELEASE/` for the release its header
///   names, or no modules when the kernel builds the virtio drivers in.
enum KernelImage {
    static func read(_ reference: SourceReference, platform: Platform, registry: RegistryOptions, scratch: String) throws -> Kernel {
        let image = try ImageResolver.resolve(reference, platform: platform, registry: registry)
        let spill = try SpillFile(directory: scratch)
        defer { spill.discard() }
        let tree = FileTree(defaultTime: 0)
        try LayerPipeline.flatten(image, into: tree, spill: spill)
        if let kernel = try KernelSources.fromImage(tree, spill: spill, platform: platform, scratchDirectory: scratch) { return kernel }
        if let kernel = try KernelSources.linuxKitLayout(tree, spill: spill, platform: platform, origin: reference.description, scratchDirectory: scratch) {
            return kernel
        }
        throw ConvertError.noKernelInImage(reference.description)
    }
}
