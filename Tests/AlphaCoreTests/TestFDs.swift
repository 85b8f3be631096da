import Glibc

/// An fd number that cannot be open in this process, whatever the tests running beside it open
/// and close: the soft RLIMIT_NOFILE itself (the kernel hands out only numbers below it). A closed
/// fd's number is no substitute: a test running in parallel may get it back at once.
func fdThatCannotBeOpen() -> Int32 {
    var r = rlimit()
    guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &r) == 0, r.rlim_cur < rlim_t(Int32.max) else {
        return Int32.max
    }
    return Int32(r.rlim_cur)
}
