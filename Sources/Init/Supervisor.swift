import CInitShim
import Glibc

/// PID 1's main loop in app mode: starts the command as a child in its own session with the
/// console as controlling terminal, forwards SIGTERM/SIGINT/SIGHUP to it, reaps every orphan,
/// and returns the command's exit status (128 + signal if a signal killed it).
enum Supervisor {
    static let forwardedSignals: Set<Int32> = [SIGTERM, SIGINT, SIGHUP]

    static func run(_ plan: CommandPlan, console: Console) -> Int32 {
        // Blocked before fork so that no SIGCHLD or forwarded signal is lost; the child unblocks.
        oi_block_all_signals(1)
        let pid = spawn(plan)
        guard pid > 0 else {
            Console.error("\(plan.arguments[0]): fork: \(errnoText(errno))")
            return 126
        }
        console.step("started \(plan.arguments[0]) as pid \(pid)")
        while true {
            let signal = oi_wait_signal(1000)
            if forwardedSignals.contains(signal) {
                kill(pid, signal)
            }
            var status: Int32 = 0
            while true {
                let reaped = oi_reap(&status)
                if reaped <= 0 {
                    break
                }
                if reaped == pid {
                    return status
                }
            }
        }
    }

    /// Forks and execs the plan (oi_spawn); -1 if fork failed.
    private static func spawn(_ plan: CommandPlan) -> pid_t {
        let argv = CStringArray(plan.arguments)
        let envp = CStringArray(plan.environment)
        let groups = plan.identity.additionalGids.map { gid_t($0) }
        return withExtendedLifetime((argv, envp)) {
            spawn(plan, argv: argv.constPointer, envp: envp.constPointer, groups: groups)
        }
    }

    private static func spawn(
        _ plan: CommandPlan, argv: UnsafePointer<UnsafePointer<CChar>?>, envp: UnsafePointer<UnsafePointer<CChar>?>,
        groups: [gid_t]
    ) -> pid_t {
        groups.withUnsafeBufferPointer { groupBuffer in
            plan.searchPath.withCString { searchPath in
                plan.workdir.withCString { workdir in
                    Console.device.withCString { consolePath in
                        var attr = oi_spawn_attr(
                            argv: argv, envp: envp, search_path: searchPath, workdir: workdir,
                            console: consolePath, uid: uid_t(plan.identity.uid), gid: gid_t(plan.identity.gid),
                            groups: groupBuffer.baseAddress, group_count: Int32(groupBuffer.count))
                        return oi_spawn(&attr)
                    }
                }
            }
        }
    }
}
