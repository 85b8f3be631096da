// The ladder: which tier serves a request (1 GiB -> 2 MiB hugetlb -> THP -> base pages), plan and
// allocate.
import CAlphaCoreShims
import Glibc

extension Region {
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
            if acshim_prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1 {
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

    /// The ladder's decision without mapping anything: which tier `allocate` would try first
    /// and why the better tiers are refused now (pools, kernel support, options).
    public static func plan(size: Int, options o: MemOptions = MemOptions()) throws(Errno) -> Region {
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

    /// Walks the ladder 1 GiB -> 2 MiB -> THP -> base pages and maps the best the host gives
    /// (`files`: a shared region's file per tier; nil: anonymous memory).
    static func walkLadder(size: Int, options o: MemOptions, files: FileSource?) throws(Errno) -> Region {
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
}
