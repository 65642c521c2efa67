import Foundation
import SystemBase
#if canImport(Glibc)
import Glibc
#endif

/// KVM only when a real boot proves it works: on some hosts /dev/kvm exists but guests fail
/// (nested virtualisation emulation errors) or take minutes. The verdict is cached per host
/// kernel and QEMU.
public enum Accelerator {
    /// `choice`: what the user forced (`OCI2DISK_ACCEL=kvm|tcg`, read by the command line);
    /// `searchPath`: where QEMU is.
    public static func useKVM(kernel: String, cacheDirectory: String, choice: String?, searchPath: String) -> Bool {
        switch choice {
        case "kvm"?: return true
        case "tcg"?: return false
        default: break
        }
        guard access("/dev/kvm", R_OK | W_OK) == 0 else { return false }
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let key = "host \(release), \(qemuIdentity(searchPath: searchPath))"
        let cache = cacheDirectory + "/kvm-probe"
        if let cached = try? String(contentsOfFile: cache, encoding: .utf8), cached.hasPrefix(key + ": ") {
            return cached.hasSuffix(": works\n")
        }
        let works = probe(kernel: kernel, searchPath: searchPath)
        try? FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        try? "\(key): \(works ? "works" : "fails")\n".write(toFile: cache, atomically: true, encoding: .utf8)
        return works
    }

    /// Boots the kernel under KVM with no root: it must get far enough to panic on the missing
    /// root (proving it ran all of early boot) within a few seconds.
    static func probe(kernel: String, searchPath: String) -> Bool {
        guard let qemu = Executable.find(MachineConfiguration.qemuBinary, in: searchPath) else { return false }
        let arguments = [
            "-nodefaults", "-no-user-config", "-no-reboot", "-display", "none", "-machine", "pc,accel=kvm", "-cpu", "host",
            "-m", "256", "-serial", "stdio", "-kernel", kernel, "-append", "console=ttyS0 panic=-1 loglevel=1"
        ]
        guard let output = try? PipeEnds("probe pipe"),
            let process = try? ChildProcess(qemu, arguments, stdin: .null, stdout: .descriptor(output.writing.raw), stderr: .null)
        else { return false }
        let reading = output.keepReading()
        DispatchQueue.global().asyncAfter(deadline: .now() + 10) { process.signal(SIGKILL) }
        let text = String(decoding: (try? FileIO.readToEnd(reading.raw, "probe output")) ?? [], as: UTF8.self)
        guard case .exited = try? process.wait() else { return false }
        return text.contains("Kernel panic")
    }

    /// The QEMU binary's path, size and modification time: changes with every QEMU upgrade,
    /// and costs a stat instead of starting QEMU on every run.
    static func qemuIdentity(searchPath: String) -> String {
        guard let qemu = Executable.find(MachineConfiguration.qemuBinary, in: searchPath) else { return "no qemu" }
        var info = stat()
        guard stat(qemu, &info) == 0 else { return "unknown qemu" }
        return "\(qemu) \(info.st_size) bytes, modified \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    }
}
