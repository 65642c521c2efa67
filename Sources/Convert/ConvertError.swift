/// Conversion requests that cannot be carried out as given, each naming the option.
public enum ConvertError: Error, Equatable, CustomStringConvertible {
    case cloudInit(folder: String, problem: String)
    /// Login options on a disk whose init runs one command (there is no login to go to).
    case loginNeedsSystemMode(options: [String])
    /// `--containerdisk` with `--format ext4`: a containerDisk holds a whole disk.
    case containerDiskNeedsADisk
    /// `--kernel-image` names an image with no kernel where `KernelImage` looks.
    case noKernelInImage(String)
    /// The containerDisk's OCI layout cannot take the image.
    case containerDisk(path: String, problem: String)

    public var description: String {
        switch self {
        case .cloudInit(let folder, let problem): "--cloud-init \(folder): \(problem)"
        case .containerDiskNeedsADisk: "--containerdisk needs a disk, not --format ext4"
        case .noKernelInImage(let source):
            "--kernel-image \(source): no kernel in the image (looked for /boot/vmlinuz-RELEASE with /lib/modules/RELEASE, and /kernel)"
        case .containerDisk(let path, let problem): "--containerdisk \(path): \(problem)"
        case .loginNeedsSystemMode(let options):
            "\(options.joined(separator: ", ")): the disk boots in app mode (it runs the image's command, there is no login): "
                + "use them with an image that has an init system and --init system"
        }
    }
}
