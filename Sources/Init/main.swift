import Glibc

// oci2disk-init: PID 1 of a VM booted from an oci2disk initramfs. Anything else only prints
// the plan for a config (see HostMode).
if getpid() == 1 {
    InitProcess.run()
} else {
    exit(HostMode.run(CommandLine.arguments))
}
