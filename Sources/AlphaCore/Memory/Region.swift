import CAlphaCoreShims
import Glibc

/// What backs a region, best first: the ladder's tiers.
public enum Backing: Int32, Sendable, CaseIterable {
    case huge1G = 0   // hugetlb, 1 GiB pages
    case huge2M = 1   // hugetlb, 2 MiB pages
    case thp = 2      // transparent huge pages (madvise), verified in /proc/self/smaps
    case base = 3     // the base page size (4 KiB)

    /// The hugetlb page size of a hugetlb tier.
    var hugetlbSize: Int? {
        switch self {
        case .huge1G: 1 << 30
        case .huge2M: 1 << 21
        default: nil
        }
    }

    public var name: String {
        switch self {
        case .huge1G: "1 GiB hugetlb"
        case .huge2M: "2 MiB hugetlb"
        case .thp: "transparent huge pages"
        case .base: "\(HugePages.sizeText(Memory.basePageSize)) pages"
        }
    }
}

/// Options of `Region.allocate` (the C struct alphacore_mem_opts).
public struct MemOptions: Sendable {
    public struct Flags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Hugetlb pages or -ENOMEM: no fallback to THP or base pages.
        public static let requireHuge = Flags(rawValue: 1 << 0)
        /// Skip the THP tier (and advise MADV_NOHUGEPAGE on base pages).
        public static let noTHP = Flags(rawValue: 1 << 1)
        /// Fault every page in now with MADV_POPULATE_WRITE (an error, never SIGBUS).
        public static let prefault = Flags(rawValue: 1 << 2)
        /// mlock the region (checks RLIMIT_MEMLOCK and CAP_IPC_LOCK first).
        public static let lock = Flags(rawValue: 1 << 3)
        /// Pages only from the chosen node (MPOL_BIND); otherwise the node is preferred.
        public static let nodeStrict = Flags(rawValue: 1 << 4)
        public static let all: Flags = [.requireHuge, .noTHP, .prefault, .lock, .nodeStrict]
    }

    /// -1: the local node (first touch; with nodeStrict, bound to the calling CPU's node).
    public var node: Int32
    /// 0: best available; otherwise the largest page size to try (1 GiB, 2 MiB or the base size).
    public var pageSize: Int
    public var flags: Flags

    public init(node: Int32 = -1, pageSize: Int = 0, flags: Flags = []) {
        self.node = node; self.pageSize = pageSize; self.flags = flags
    }
}

/// Per tier: 0, or the errno (positive) for which that tier was refused.
public struct Refusals: Sendable, Equatable {
    public var codes: (Int32, Int32, Int32, Int32) = (0, 0, 0, 0)
    public init() {}
    public subscript(_ b: Backing) -> Int32 {
        get {
            switch b {
            case .huge1G: codes.0
            case .huge2M: codes.1
            case .thp: codes.2
            case .base: codes.3
            }
        }
        set {
            switch b {
            case .huge1G: codes.0 = newValue
            case .huge2M: codes.1 = newValue
            case .thp: codes.2 = newValue
            case .base: codes.3 = newValue
            }
        }
    }
    public static func == (a: Refusals, b: Refusals) -> Bool {
        a.codes.0 == b.codes.0 && a.codes.1 == b.codes.1 && a.codes.2 == b.codes.2 && a.codes.3 == b.codes.3
    }
}

/// State flags of a region (the C ALPHACORE_REGION_* bits).
public struct RegionFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let prefaulted = RegionFlags(rawValue: 1 << 0)
    public static let locked = RegionFlags(rawValue: 1 << 1)
    public static let shared = RegionFlags(rawValue: 1 << 2)
    public static let nodeBound = RegionFlags(rawValue: 1 << 3)
    public static let thpProbed = RegionFlags(rawValue: 1 << 4)
}

/// A memory region the library mapped. A plain value: `free()` unmaps it once; a copy freed a
/// second time (or a forged value) is refused with EINVAL, because the library keeps a registry
/// of the regions it has mapped, keyed by `cookie`.
public struct Region: @unchecked Sendable {
    /// nil only in a plan (`Region.plan`), never in an allocated region.
    public var address: UnsafeMutableRawPointer?
    /// The mapped size: the request rounded up to `pageSize`.
    public var size: Int
    public var requested: Int
    /// The page size backing the region (THP: 2 MiB when verified, else the base size).
    public var pageSize: Int
    /// Bytes verified to sit in huge pages (hugetlb: all; THP: AnonHugePages from smaps).
    public var hugeBytes: Int
    public var backing: Backing
    /// The node the pages were verified on (-1: unknown, not faulted in, or spread over nodes).
    public var node: Int32
    public var refused: Refusals
    public var flags: RegionFlags
    /// Shared regions: the open file (-1 otherwise).
    public var fd: Int32
    /// Identifies the live region in the library's registry (0 in a plan).
    public var cookie: UInt64

    /// Rebuilds a value from its fields (the C layer; `free` checks it against the registry).
    public init(address: UnsafeMutableRawPointer?, size: Int, requested: Int, pageSize: Int, hugeBytes: Int,
                backing: Backing, node: Int32, refused: Refusals, flags: RegionFlags, fd: Int32, cookie: UInt64) {
        self.address = address; self.size = size; self.requested = requested; self.pageSize = pageSize
        self.hugeBytes = hugeBytes; self.backing = backing; self.node = node; self.refused = refused
        self.flags = flags; self.fd = fd; self.cookie = cookie
    }

    init(size: Int, requested: Int) {
        address = nil; self.size = size; self.requested = requested; pageSize = Memory.basePageSize
        hugeBytes = 0; backing = .base; node = -1; refused = Refusals(); flags = []; fd = -1; cookie = 0
    }

    public var bytes: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: address, count: address == nil ? 0 : size)
    }

    /// Walks the ladder 1 GiB -> 2 MiB -> THP -> base pages and maps the best the host gives.
    public static func allocate(size: Int, options: MemOptions = MemOptions()) throws(Errno) -> Region {
        try Memory.allocate(size: size, options: options)
    }

    /// The ladder's decision without mapping anything: which tier `allocate` would try first
    /// and why the better tiers are refused now (pools, kernel support, options).
    public static func plan(size: Int, options: MemOptions = MemOptions()) throws(Errno) -> Region {
        try Memory.plan(size: size, options: options)
    }

    /// Unmaps the region with its recorded page size. EINVAL for a region the library does not
    /// know (freed already, copied and freed, forged).
    public func free() throws(Errno) { try Memory.free(self) }

    /// A report in words: what backs the region and why each better tier was refused.
    public var report: String { Memory.report(self) }
}

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

/// The ladder, prefault, locking, verification and free.
public enum Memory {
    public static let basePageSize: Int = {
        let v = sysconf(Int32(_SC_PAGESIZE))
        return v > 0 ? v : 4096
    }()
    static let thpSize = 1 << 21
    static let registry = RegionRegistry()

    /// The number of live regions (tests use it to check for leaks).
    public static var liveRegions: Int { registry.count }

    // ---- the decision ----------------------------------------------------------------------

    struct Resolved {
        var bindNode: Int32?     // nil: first-touch local, no mbind
        var strict: Bool
        var start: Backing       // first tier the options allow
        var explicitSize: Bool   // the caller named a page size: no "too small" skipping
    }

    static func resolve(size: Int, options o: MemOptions) throws(Errno) -> Resolved {
        if size == 0 { throw Errno.fail(EINVAL, "size is 0") }
        if size < 0 { throw Errno.fail(EOVERFLOW, "size \(UInt(bitPattern: size)) is larger than any mapping") }
        let unknown = o.flags.rawValue & ~MemOptions.Flags.all.rawValue
        if unknown != 0 { throw Errno.fail(EINVAL, "unknown flags 0x\(String(unknown, radix: 16))") }
        if size > Int.max - (1 << 30) {
            throw Errno.fail(EOVERFLOW, "size \(size) overflows when rounded up to a page")
        }
        let start: Backing
        switch o.pageSize {
        case 0: start = .huge1G
        case 1 << 30: start = .huge1G
        case 1 << 21: start = .huge2M
        case basePageSize: start = .base
        default:
            throw Errno.fail(EINVAL, "page size \(o.pageSize) is not 0, 1 GiB, 2 MiB or \(basePageSize)")
        }
        if o.flags.contains(.requireHuge) && start == .base {
            throw Errno.fail(EINVAL, "REQUIRE_HUGE with a base page size preference")
        }
        var bind: Int32? = nil
        if o.node >= 0 {
            let t = try Topology.current
            if !t.nodeIDs.contains(Int(o.node)) {
                throw Errno.fail(EINVAL, "NUMA node \(o.node) does not exist (nodes: \(t.nodeIDs.cpulist.isEmpty ? "none" : t.nodeIDs.cpulist))")
            }
            if !t.memoryNodes.contains(Int(o.node)) {
                throw Errno.fail(EINVAL, "NUMA node \(o.node) has no memory (nodes with memory: \(t.memoryNodes.cpulist))")
            }
            bind = o.node
        } else if o.node == -1 {
            if o.flags.contains(.nodeStrict) {
                let n = Topology.node(ofCPU: Pinning.currentCPU())
                if n < 0 { throw Errno(0 &- n) }
                bind = n
            }
        } else {
            throw Errno.fail(EINVAL, "node \(o.node) is neither a node number nor -1 (local)")
        }
        return Resolved(bindNode: bind, strict: o.flags.contains(.nodeStrict), start: start,
                        explicitSize: o.pageSize != 0)
    }

    /// Checks one tier before mapping. Returns the rounded size, or throws the refusal.
    static func check(_ tier: Backing, size: Int, options o: MemOptions, r: Resolved,
                      words: Bool = true) throws(Errno) -> Int {
        if tier.rawValue < r.start.rawValue {
            throw Errno(ECANCELED)   // cheap refusals carry no detail: the report words them
        }
        if o.flags.contains(.requireHuge) && (tier == .thp || tier == .base) {
            throw Errno(ECANCELED)
        }
        switch tier {
        case .huge1G, .huge2M:
            let p = tier.hugetlbSize ?? basePageSize
            if size < p && !r.explicitSize {
                throw Errno(ERANGE)
            }
            let rounded = try roundUp(size, p)
            try HugePages.requireUsable(pageSize: p, pages: rounded / p, node: r.strict ? (r.bindNode ?? -1) : -1,
                                        words: words)
            return rounded
        case .thp:
            if o.flags.contains(.noTHP) { throw Errno(ECANCELED) }
            if size < thpSize && !r.explicitSize {
                throw Errno(ERANGE)
            }
            let mode = thpMode()
            if mode != "always" && mode != "madvise" {
                throw Errno.fail(EOPNOTSUPP, "transparent huge pages are '\(mode)' in /sys/kernel/mm/transparent_hugepage/enabled")
            }
            if acshim_prctl(42 /* PR_GET_THP_DISABLE */, 0, 0, 0, 0) == 1 {
                throw Errno.fail(EOPNOTSUPP, "THP disabled for this process (PR_SET_THP_DISABLE)")
            }
            return try roundUp(size, thpSize)
        case .base:
            return try roundUp(size, basePageSize)
        }
    }

    static func roundUp(_ size: Int, _ p: Int) throws(Errno) -> Int {
        guard let rounded = RoundUp.multiple(size, of: p) else {
            throw Errno.fail(EOVERFLOW, "size \(size) overflows when rounded up to \(HugePages.sizeText(p))")
        }
        return rounded
    }

    /// The THP mode ("always", "madvise", "never"), from sysfs below SystemRoot. Like the pool
    /// counters, a yes ("always"/"madvise") may come from a reading younger than 20 ms (smaps
    /// verifies the result anyway); anything else is re-read before the tier is refused.
    static func thpMode() -> String {
        let path = SystemRoot.prefix + "/sys/kernel/mm/transparent_hugepage/enabled"
        let now = Clock.nowNanoseconds()
        if let m = thpSnapshot.get(path: path, now: now) { return m }
        let file = thpFiles.file(path)
        let mode = file.read { bytes -> String in
            guard let open = bytes.firstIndex(of: UInt8(ascii: "[")),
                  let close = bytes[open...].firstIndex(of: UInt8(ascii: "]")) else { return "unknown" }
            return String(decoding: bytes[(open + 1)..<close], as: UTF8.self)
        } ?? "unavailable"
        if mode == "always" || mode == "madvise" { thpSnapshot.set(path: path, mode: mode, now: now) }
        return mode
    }

    final class ModeSnapshot: @unchecked Sendable {
        private var path = "", mode = "", at: UInt64 = 0
        private let lock = PThreadMutex()
        func get(path p: String, now: UInt64) -> String? {
            lock.withLock { (p == path && now &- at < HugePages.snapshotAge) ? mode : nil }
        }
        func set(path p: String, mode m: String, now: UInt64) { lock.withLock { path = p; mode = m; at = now } }
    }

    static let thpSnapshot = ModeSnapshot()
    static let thpFiles = CachedFiles()

    static func plan(size: Int, options o: MemOptions) throws(Errno) -> Region {
        let r = try resolve(size: size, options: o)
        var region = Region(size: size, requested: size)
        for tier in Backing.allCases {
            do throws(Errno) {
                let rounded = try check(tier, size: size, options: o, r: r, words: false)
                region.backing = tier
                region.size = rounded
                region.pageSize = tier.hugetlbSize ?? (tier == .thp ? thpSize : basePageSize)
                region.node = r.bindNode ?? -1
                return region
            } catch {
                region.refused[tier] = error.code
            }
        }
        throw Errno.fail(ENOMEM, "no tier can serve \(size) bytes" + (o.flags.contains(.requireHuge) ? " in hugetlb pages" : ""))
    }

    // ---- mapping ---------------------------------------------------------------------------

    static var mapFailed: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: -1) }

    /// Where a shared region's file comes from, per tier (nil source: anonymous memory).
    struct FileSource {
        /// Creates the file for a tier (sized `rounded`), or throws that tier's refusal.
        var create: (Backing, Int) throws(Errno) -> (fd: Int32, path: String)
        /// Closes and removes a file whose tier failed.
        var discard: (Int32, String) -> Void
    }

    static func allocate(size: Int, options o: MemOptions, files: FileSource? = nil) throws(Errno) -> Region {
        let r = try resolve(size: size, options: o)
        if o.flags.contains(.lock) { try lockPrecheck(try roundUp(size, basePageSize)) }
        var region = Region(size: size, requested: size)
        var reasons = [String](repeating: "", count: 4)
        var lastError = Errno(ENOMEM)
        for tier in Backing.allCases {
            let rounded: Int
            let m: Mapped
            var file: (fd: Int32, path: String)? = nil
            do throws(Errno) {
                rounded = try check(tier, size: size, options: o, r: r)
                // A larger tier's rounding may not fit the memlock limit: a tier refusal.
                if o.flags.contains(.lock) { try lockPrecheck(rounded) }
                if let files { file = try files.create(tier, rounded) }
                m = try mapTier(tier, rounded: rounded, options: o, r: r, fd: file?.fd ?? -1)
            } catch {
                if let file, let files { files.discard(file.fd, file.path) }
                region.refused[tier] = error.code
                if !isCheapRefusal(error) { reasons[Int(tier.rawValue)] = Detail.current }
                lastError = error
                continue
            }
            if m.backing != tier {  // THP asked, smaps shows none: kept as base pages
                region.refused[tier] = EAGAIN
                reasons[Int(tier.rawValue)] = m.thpReason
            }
            do throws(Errno) {
                return try finish(m, rounded: rounded, region: region, reasons: reasons, options: o, r: r,
                                  fd: file?.fd ?? -1, path: file?.path)
            } catch {
                if let file, let files { files.discard(file.fd, file.path) }
                throw error
            }
        }
        if o.flags.contains(.requireHuge) {
            let words = [Backing.huge1G, .huge2M].map { t in
                let why = reasons[Int(t.rawValue)]
                return "\(t.name): \(why.isEmpty ? defaultReason(t, region.refused[t], requested: size) : why)"
            }.joined(separator: "; ")
            throw Errno.fail(ENOMEM, "REQUIRE_HUGE and no hugetlb tier can serve \(size) bytes (\(words))")
        }
        throw Errno.fail(lastError.code, "no tier can serve \(size) bytes: \(Detail.current)")
    }

    /// After a tier mapped: lock, verify the node, register. On failure the mapping is undone.
    static func finish(_ m: Mapped, rounded: Int, region start: Region, reasons: [String], options o: MemOptions,
                       r: Resolved, fd: Int32, path: String?) throws(Errno) -> Region {
        var region = start
        region.address = m.address
        region.size = rounded
        region.backing = m.backing
        region.pageSize = m.pageSize
        region.hugeBytes = m.hugeBytes
        region.flags = m.flags
        region.fd = fd
        if o.flags.contains(.lock) {
            if mlock(m.address, rounded) != 0 {
                let e = Errno.fromErrno("mlock of \(rounded) bytes failed")
                munmap(m.mapBase, m.mapLength)
                throw e
            }
            region.flags.insert(.locked)
        }
        region.node = verifiedNode(m.address, rounded, pageSize: m.pageSize,
                                   faulted: region.flags.contains(.prefaulted) || region.flags.contains(.locked))
        if r.bindNode != nil { region.flags.insert(.nodeBound) }
        region.cookie = registry.insert(.init(mapBase: m.mapBase, mapLength: m.mapLength, address: m.address,
                                              size: rounded, pageSize: m.pageSize, fd: fd, reasons: reasons,
                                              path: path, hugetlb: m.backing.hugetlbSize != nil))
        return region
    }

    struct Mapped {
        var mapBase: UnsafeMutableRawPointer
        var mapLength: Int
        var address: UnsafeMutableRawPointer
        var backing: Backing
        var pageSize: Int
        var hugeBytes: Int
        var flags: RegionFlags
        var thpReason: String = ""
    }

    /// Maps one tier, anonymous (`fd` -1) or over a shared file; on any failure nothing stays
    /// mapped and the refusal is thrown.
    static func mapTier(_ tier: Backing, rounded: Int, options o: MemOptions, r: Resolved,
                        fd: Int32 = -1) throws(Errno) -> Mapped {
        let prot = PROT_READ | PROT_WRITE
        let shared = fd >= 0
        let kind = shared ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS
        var m: Mapped
        switch tier {
        case .huge1G, .huge2M:
            let p = tier.hugetlbSize ?? basePageSize
            let shift = Int32(p.trailingZeroBitCount)
            // Never MAP_NORESERVE: the reservation taken here is what makes touching safe.
            let flags = shared ? kind : kind | MAP_HUGETLB | (shift << MAP_HUGE_SHIFT)
            let addr = mmap(nil, rounded, prot, flags, fd, 0)
            guard let addr, addr != mapFailed else {
                throw Errno.fromErrno("mmap of \(rounded) bytes in \(HugePages.sizeText(p)) pages failed")
            }
            HugePages.invalidateSnapshots()   // the pool's counters changed
            m = Mapped(mapBase: addr, mapLength: rounded, address: addr, backing: tier, pageSize: p,
                       hugeBytes: rounded, flags: [])
        case .thp:
            // Reserve 2 MiB of slack to align, plus a guard page so that neighbouring regions
            // never merge into one VMA (smaps would then mix their counts); map over it.
            let (len, o1) = rounded.addingReportingOverflow(thpSize &+ basePageSize)
            if o1 { throw Errno.fail(EOVERFLOW, "size \(rounded) overflows with alignment slack") }
            let raw = mmap(nil, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
            guard let raw, raw != mapFailed else { throw Errno.fromErrno("mmap of \(len) bytes failed") }
            let rawInt = Int(bitPattern: raw)
            let aligned = RoundUp.multiple(rawInt, of: thpSize) ?? rawInt
            let head = aligned &- rawInt
            if head > 0 { munmap(raw, head) }
            let base = UnsafeMutableRawPointer(bitPattern: aligned) ?? raw
            let tail = len &- head &- rounded &- basePageSize
            if tail > 0 { munmap(base + rounded + basePageSize, tail) }
            let mapLength = rounded &+ basePageSize   // the last page stays PROT_NONE: the guard
            let got = mmap(base, rounded, prot, kind | MAP_FIXED, fd, 0)
            guard let got, got != mapFailed else {
                let e = Errno.fromErrno("mmap of \(rounded) bytes failed")
                munmap(base, mapLength)
                throw e
            }
            m = Mapped(mapBase: base, mapLength: mapLength, address: base, backing: .thp, pageSize: thpSize,
                       hugeBytes: 0, flags: [])
            if madvise(base, rounded, MADV_HUGEPAGE) != 0 {
                let e = Errno.fromErrno("madvise(MADV_HUGEPAGE) failed")
                munmap(base, mapLength)
                throw e
            }
        case .base:
            let addr = mmap(nil, rounded, prot, kind, fd, 0)
            guard let addr, addr != mapFailed else { throw Errno.fromErrno("mmap of \(rounded) bytes failed") }
            m = Mapped(mapBase: addr, mapLength: rounded, address: addr, backing: .base, pageSize: basePageSize,
                       hugeBytes: 0, flags: [])
            if o.flags.contains(.noTHP) { _ = madvise(addr, rounded, MADV_NOHUGEPAGE) }
        }
        do throws(Errno) {
            try place(m.address, rounded, r: r)
            // The hugetlb reservation taken by mmap is global, not per node: with NODE_STRICT a
            // node short of pages would SIGBUS on touch, so those regions are always prefaulted.
            if o.flags.contains(.prefault) || (tier.hugetlbSize != nil && r.strict && r.bindNode != nil) {
                // Touching is never the fallback for hugetlb: a missing page there is SIGBUS.
                try prefault(m.address, rounded, touchSafe: tier == .thp || tier == .base)
                m.flags.insert(.prefaulted)
            } else if tier == .thp {
                try prefault(m.address, thpSize, touchSafe: true)   // verify with the first huge page
                m.flags.insert(.thpProbed)
            }
        } catch {
            munmap(m.mapBase, m.mapLength)
            throw error
        }
        if shared { m.flags.insert(.shared) }
        if tier == .thp {
            let huge = Smaps.hugeBytes(containing: m.address, shared: shared)
            m.hugeBytes = huge
            if huge == 0 {
                m.backing = .base
                m.pageSize = basePageSize
                m.thpReason = "madvise(MADV_HUGEPAGE) succeeded but /proc/self/smaps shows no \(shared ? "ShmemPmdMapped" : "AnonHugePages") (THP refused: disabled for the process, fragmentation, or defrag policy)"
            }
        }
        return m
    }

    /// The node policy for the range (the CPU capability's mbind wrapper): MPOL_BIND with
    /// NODE_STRICT, else MPOL_PREFERRED.
    static func place(_ addr: UnsafeMutableRawPointer, _ len: Int, r: Resolved) throws(Errno) {
        guard let n = r.bindNode else { return }
        try NUMA.bind(range: UnsafeMutableRawBufferPointer(start: addr, count: len), nodes: CPUSet([Int(n)]),
                      mode: r.strict ? .bind : .preferred)
    }

    /// Faults the range in with MADV_POPULATE_WRITE: a missing page is an error (EFAULT,
    /// ENOMEM), not SIGBUS. Only where touching is safe (never hugetlb) does a kernel without
    /// MADV_POPULATE_WRITE fall back to writing one byte per page.
    public static func prefault(_ addr: UnsafeMutableRawPointer, _ len: Int, touchSafe: Bool) throws(Errno) {
        while true {
            guard case .failure(let error) = SystemCall.valueOrErrno({ madvise(addr, len, MADV_POPULATE_WRITE) }) else { return }
            let e = error.code
            if e == EAGAIN { continue }
            if e == EINVAL && touchSafe {
                var off = 0
                while off < len {
                    addr.storeBytes(of: 0, toByteOffset: off, as: UInt8.self)
                    off &+= basePageSize
                }
                return
            }
            throw Errno.fail(e, "prefault (MADV_POPULATE_WRITE) of \(len) bytes failed: \(error)")
        }
    }

    /// The node of the region's pages (first, middle, last), or -1 when unknown or mixed.
    static func verifiedNode(_ addr: UnsafeMutableRawPointer, _ len: Int, pageSize: Int, faulted: Bool) -> Int32 {
        if !faulted { return -1 }
        let last = (len &- 1) & ~(pageSize &- 1)
        let mid = (len / 2) & ~(pageSize &- 1)
        var status: (Int32, Int32, Int32) = (-1, -1, -1)
        var pages: (UnsafeRawPointer?, UnsafeRawPointer?, UnsafeRawPointer?) = (UnsafeRawPointer(addr), UnsafeRawPointer(addr + mid), UnsafeRawPointer(addr + last))
        let ok = withUnsafeMutableBytes(of: &status) { s in
            withUnsafeBytes(of: &pages) { p in
                (try? NUMA.nodesOf(pages: p.bindMemory(to: UnsafeRawPointer?.self), status: s.bindMemory(to: Int32.self))) != nil
            }
        }
        guard ok, status.0 >= 0, status.0 == status.1, status.1 == status.2 else { return -1 }
        return status.0
    }

    // ---- locking ---------------------------------------------------------------------------

    /// Checks that `bytes` can be locked: CAP_IPC_LOCK, or RLIMIT_MEMLOCK above what is locked
    /// already. -EPERM (limit 0, no capability) or -ENOMEM, with the limit in the detail.
    public static func lockPrecheck(_ bytes: Int) throws(Errno) {
        let status = (try? SysFile.read("/proc/self/status")) ?? ""
        let capEff = ProcStatus.field("CapEff", in: status).flatMap(ProcStatus.capabilities(hex:)) ?? 0
        let lockedKB = ProcStatus.field("VmLck", in: status).flatMap { Int($0.split(separator: " ").first ?? "") } ?? 0
        if capEff & (1 << ProcStatus.Capability.ipcLock.rawValue) != 0 { return }
        var rl = rlimit()
        if getrlimit(__rlimit_resource_t(__RLIMIT_MEMLOCK.rawValue), &rl) != 0 { return }
        if rl.rlim_cur == rlim_t.max { return }  // RLIM_INFINITY
        let limit = Int(clamping: rl.rlim_cur)
        if limit == 0 {
            throw Errno.fail(EPERM, "RLIMIT_MEMLOCK is 0 and the process lacks CAP_IPC_LOCK")
        }
        let locked = lockedKB &* 1024
        if locked > limit || bytes > limit &- locked {
            throw Errno.fail(ENOMEM, "locking \(bytes) bytes exceeds RLIMIT_MEMLOCK \(limit) bytes (\(locked) locked already) without CAP_IPC_LOCK")
        }
    }

    // ---- free and report -------------------------------------------------------------------

    static func free(_ region: Region) throws(Errno) {
        guard region.cookie != 0,
              let e = registry.remove(region) else {
            throw Errno.fail(EINVAL, "not a live region of this library (freed already, never allocated by it, or its addr, size, page_size, fd or cookie changed)")
        }
        if munmap(e.mapBase, e.mapLength) != 0 {
            throw Errno.fromErrno("munmap of \(e.mapLength) bytes failed")
        }
        if e.hugetlb { HugePages.invalidateSnapshots() }
        if e.fd >= 0 { close(e.fd) }
    }

    static func report(_ region: Region) -> String {
        let entry = registry.entry(cookie: region.cookie, address: region.address)
        let reasons = entry?.reasons
        var s = ""
        if let a = region.address {
            s += "region at 0x\(String(UInt(bitPattern: a), radix: 16)): "
        } else {
            s += "plan: "
        }
        s += "\(region.requested) bytes requested, \(region.size) mapped in \(region.backing.name)"
        if region.backing == .thp {
            s += " (\(region.hugeBytes) of \(region.size) bytes verified huge in /proc/self/smaps)"
        }
        s += region.node >= 0 ? ", node \(region.node) (verified)" : ", node not verified"
        var f: [String] = []
        if region.flags.contains(.prefaulted) { f.append("prefaulted") }
        if region.flags.contains(.locked) { f.append("locked") }
        if region.flags.contains(.shared) { f.append("shared") }
        if region.flags.contains(.nodeBound) { f.append("node-bound") }
        if !f.isEmpty { s += "; " + f.joined(separator: ", ") }
        if let path = entry?.path { s += "; file \(path)" }
        s += "\n"
        for tier in Backing.allCases {
            let code = region.refused[tier]
            if code == 0 { continue }
            var why = reasons?[Int(tier.rawValue)] ?? ""
            if why.isEmpty { why = defaultReason(tier, code, requested: region.requested) }
            s += "  \(tier.name): refused (\(errnoName(code))): \(why)\n"
        }
        return s
    }

    /// ERANGE and ECANCELED refusals are decided without words (the decision stays cheap).
    static func isCheapRefusal(_ e: Errno) -> Bool { e.code == ERANGE || e.code == ECANCELED }

    static func defaultReason(_ tier: Backing, _ code: Int32, requested: Int) -> String {
        switch code {
        case ERANGE:
            let p = tier.hugetlbSize ?? thpSize
            return "the request (\(requested) bytes) is smaller than one \(HugePages.sizeText(p)) page"
        case ECANCELED:
            return "excluded by the options (a smaller preferred page size, NO_THP or REQUIRE_HUGE)"
        case ENOMEM where tier.hugetlbSize != nil:
            return "the pool has too few usable pages (free - reserved + overcommit - surplus)"
        default:
            return Errno(code).description
        }
    }

    static func errnoName(_ c: Int32) -> String {
        switch c {
        case ENOMEM: "ENOMEM"
        case EINVAL: "EINVAL"
        case ERANGE: "ERANGE"
        case ECANCELED: "ECANCELED"
        case EOPNOTSUPP: "EOPNOTSUPP"
        case EAGAIN: "EAGAIN"
        case EFAULT: "EFAULT"
        case EPERM: "EPERM"
        case EOVERFLOW: "EOVERFLOW"
        case ENOENT: "ENOENT"
        default: "errno \(c)"
        }
    }
}
