import Glibc

/// A NULL-terminated array of C strings (argv, envp), freed with this object: keep it alive
/// (`withExtendedLifetime`) while C uses it.
final class CStringArray {
    /// `char **`, as execv takes it.
    let pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let count: Int

    init(_ strings: [String]) {
        count = strings.count
        pointer = .allocate(capacity: count + 1)
        for (index, string) in strings.enumerated() {
            pointer[index] = strdup(string)
        }
        pointer[count] = nil
    }

    deinit {
        for index in 0..<count {
            free(pointer[index])
        }
        pointer.deallocate()
    }

    /// `const char *const *`, as oi_spawn_attr takes it.
    var constPointer: UnsafePointer<UnsafePointer<CChar>?> {
        UnsafeRawPointer(pointer).assumingMemoryBound(to: UnsafePointer<CChar>?.self)
    }
}
