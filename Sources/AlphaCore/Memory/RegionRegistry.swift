// The registry of live regions and free: a region is unmapped once, exactly as recorded.
import CAlphaCoreShims
import Glibc

/// The registry of live regions (free of an unknown one is EINVAL, never a stray munmap).
final class RegionRegistry: @unchecked Sendable {
    struct Entry {
        var mapBase: UnsafeMutableRawPointer
        var mapLength: Int
        var address: UnsafeMutableRawPointer
        var size: Int
        var pageSize: Int
        var fd: Int32
        var reasons: [String]
        var path: String? = nil
        var hugetlb = false
    }
    private var live: [UInt64: Entry] = [:]
    private var counter: UInt64 = 0
    private let lock = PThreadMutex()

    func insert(_ e: Entry) -> UInt64 {
        lock.withLock {
            // Random high half (a forged or stale struct is unlikely to match), counter low half.
            var cookie: UInt64 = 0
            repeat {
                let r = UInt64.random(in: 0...UInt64.max)
                counter &+= 1
                cookie = (r & ~0xFFFF_FFFF) | (counter & 0xFFFF_FFFF)
            } while cookie == 0 || live[cookie] != nil
            live[cookie] = e
            return cookie
        }
    }

    /// Removes the live region `r` names: its cookie, address, size, page size and fd must all be
    /// the ones recorded (a struct with a changed field is refused, never unmapped in part).
    func remove(_ r: Region) -> Entry? {
        lock.withLock {
            guard let e = live[r.cookie], e.address == r.address, e.size == r.size, e.pageSize == r.pageSize,
                  e.fd == r.fd else { return nil }
            live[r.cookie] = nil
            if live.isEmpty { live = [:] }  // give back the table's storage
            return e
        }
    }

    func entry(cookie: UInt64, address: UnsafeMutableRawPointer?) -> Entry? {
        lock.withLock {
            guard let e = live[cookie], e.address == address else { return nil }
            return e
        }
    }

    var count: Int { lock.withLock { live.count } }
}

extension Region {
    public static let basePageSize: Int = {
        let v = sysconf(Int32(_SC_PAGESIZE))
        return v > 0 ? v : 4096
    }()
    static let thpSize = 1 << 21
    static let registry = RegionRegistry()

    /// The number of live regions (tests use it to check for leaks).
    public static var liveRegions: Int { registry.count }

    /// Unmaps the region with its recorded page size. EINVAL for a region the library does not
    /// know (freed already, never allocated by it, or a field the registry checks changed).
    public func free() throws(Errno) {
        let region = self
        guard region.cookie != 0,
              let e = Region.registry.remove(region) else {
            throw Errno.fail(EINVAL, "not a live region of this library (freed already, never allocated by it, or its addr, size, page_size, fd or cookie changed)")
        }
        if munmap(e.mapBase, e.mapLength) != 0 {
            throw Errno.fromErrno("munmap of \(e.mapLength) bytes failed")
        }
        if e.hugetlb { HugePages.invalidateSnapshots() }
        if e.fd >= 0 { close(e.fd) }
    }
}
