import GuestContract
import OCIModels

extension InitConfig {
    /// Settings an image asks for, then the user's overrides (`RunOverrides`' rule).
    public mutating func apply(image: RunConfig?, overrides: RunOverrides) {
        let applied = overrides.applied(to: image)
        entrypoint = applied.entrypoint
        cmd = applied.cmd
        environment = applied.environment
        workingDirectory = applied.workingDirectory
        user = applied.user
        if let hostname = overrides.hostname { self.hostname = hostname }
    }
}
