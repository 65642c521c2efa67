import ArgumentParser
import Convert
import Provision

/// How to log in to a system-mode disk, and its first-boot seed, for `convert`.
struct LoginArguments: ParsableArguments {
    @Option(help: ArgumentHelp("Root's password as a crypt(5) hash (e.g. from `mkpasswd -m yescrypt`).", valueName: "hash"))
    var rootPasswordHash: String?

    @Option(
        help: ArgumentHelp(
            "A file whose first line is root's password; it is hashed (yescrypt or SHA-512, as the image's /etc/login.defs says), never stored.",
            valueName: "file"))
    var rootPasswordFile: String?

    @Option(
        name: .customLong("ssh-authorized-key"),
        help: ArgumentHelp("An OpenSSH public-key file for the login user's ~/.ssh/authorized_keys (repeatable).", valueName: "file"))
    var authorizedKeys: [String] = []

    @Option(
        help: ArgumentHelp(
            "Who the keys are for (default root); added to /etc/passwd, /etc/shadow and /etc/group with a home folder when missing.", valueName: "name"))
    var loginUser: String?

    @Option(
        name: .customLong("cloud-init"),
        help: ArgumentHelp(
            "A folder with user-data and meta-data (and network-config): written as a cloud-init NoCloud seed partition labelled CIDATA.", valueName: "dir"))
    var cloudInit: String?

    func validate() throws {
        if rootPasswordHash != nil && rootPasswordFile != nil { throw ValidationError("Give one of --root-password-hash and --root-password-file.") }
    }

    var options: LoginOptions {
        var options = LoginOptions()
        options.rootPasswordHash = rootPasswordHash
        options.rootPasswordFile = rootPasswordFile
        options.authorizedKeyFiles = authorizedKeys
        options.loginUser = loginUser
        return options
    }
}
