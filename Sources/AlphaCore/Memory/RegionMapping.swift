// Mapping one tier: mmap, THP alignment and verification, placement, prefault, locking.
import CAlphaCoreShims
import Glibc

extension Region {
    // ---- mapping ---------------------------------------------------------------------------

    static var mapFailed: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: -1) }

    /// Where a shared region's file comes from, per tier (nil source: anonymous memory).
    struct FileSource {
        /// Creates the file for a tier (sized `rounded`), or throws that tier's refusal.
        var create: (Backing, Int) throws(Errno) -> (fd: Int32, path: String)
        /// Closes and removes a file whose tier failed.
        var discard: (Int32, String) -> Void
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
    /// mapped and the refusal is thrown. One stage per function: map (per tier), place and
    /// fault, then (THP) verify.
    static func mapTier(_ tier: Backing, rounded: Int, options o: MemOptions, r: Resolved,
                        fd: Int32 = -1) throws(Errno) -> Mapped {
        let shared = fd >= 0
        let kind = shared ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS
        var m: Mapped
        switch tier {
        case .huge1G, .huge2M: m = try mapHugetlb(tier, rounded: rounded, kind: kind, fd: fd)
        case .thp: m = try mapTHP(rounded: rounded, kind: kind, fd: fd)
        case .base:
            let addr = mmap(nil, rounded, PROT_READ | PROT_WRITE, kind, fd, 0)
            guard let addr, addr != mapFailed else { throw Errno.fromErrno("mmap of \(rounded) bytes failed") }
            m = Mapped(mapBase: addr, mapLength: rounded, address: addr, backing: .base, pageSize: basePageSize,
                       hugeBytes: 0, flags: [])
            if o.flags.contains(.noTHP) { _ = madvise(addr, rounded, MADV_NOHUGEPAGE) }
        }
        do throws(Errno) {
            try placeAndFault(&m, tier, rounded: rounded, options: o, r: r)
        } catch {
            munmap(m.mapBase, m.mapLength)
            throw error
        }
        if shared { m.flags.insert(.shared) }
        if tier == .thp { verifyTHP(&m, shared: shared) }
        return m
    }

    /// A hugetlb tier (1 GiB or 2 MiB pages; a shared file's hugetlbfs mount sets the size).
    private static func mapHugetlb(_ tier: Backing, rounded: Int, kind: Int32, fd: Int32) throws(Errno) -> Mapped {
        let p = tier.hugetlbSize ?? basePageSize
        let shift = Int32(p.trailingZeroBitCount)
        // Never MAP_NORESERVE: the reservation taken here is what makes touching safe.
        let flags = fd >= 0 ? kind : kind | MAP_HUGETLB | (shift << MAP_HUGE_SHIFT)
        let addr = mmap(nil, rounded, PROT_READ | PROT_WRITE, flags, fd, 0)
        guard let addr, addr != mapFailed else {
            throw Errno.fromErrno("mmap of \(rounded) bytes in \(HugePages.sizeText(p)) pages failed")
        }
        HugePages.invalidateSnapshots()   // the pool's counters changed
        return Mapped(mapBase: addr, mapLength: rounded, address: addr, backing: tier, pageSize: p,
                      hugeBytes: rounded, flags: [])
    }

    /// The THP tier: 2 MiB-aligned, with a guard page, MADV_HUGEPAGE.
    private static func mapTHP(rounded: Int, kind: Int32, fd: Int32) throws(Errno) -> Mapped {
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
        let got = mmap(base, rounded, PROT_READ | PROT_WRITE, kind | MAP_FIXED, fd, 0)
        guard let got, got != mapFailed else {
            let e = Errno.fromErrno("mmap of \(rounded) bytes failed")
            munmap(base, mapLength)
            throw e
        }
        if madvise(base, rounded, MADV_HUGEPAGE) != 0 {
            let e = Errno.fromErrno("madvise(MADV_HUGEPAGE) failed")
            munmap(base, mapLength)
            throw e
        }
        return Mapped(mapBase: base, mapLength: mapLength, address: base, backing: .thp, pageSize: thpSize,
                      hugeBytes: 0, flags: [])
    }

    /// Node placement, then prefault (or, for THP, a probe of the first huge page). The caller
    /// unmaps on a throw.
    private static func placeAndFault(_ m: inout Mapped, _ tier: Backing, rounded: Int, options o: MemOptions,
                                      r: Resolved) throws(Errno) {
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
    }

    /// THP is advice: smaps says whether huge pages back the range; if not, the region is base.
    private static func verifyTHP(_ m: inout Mapped, shared: Bool) {
        let huge = Smaps.hugeBytes(containing: m.address, shared: shared)
        m.hugeBytes = huge
        if huge == 0 {
            m.backing = .base
            m.pageSize = basePageSize
            m.thpReason = "madvise(MADV_HUGEPAGE) succeeded but /proc/self/smaps shows no \(shared ? "ShmemPmdMapped" : "AnonHugePages") (THP refused: disabled for the process, fragmentation, or defrag policy)"
        }
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
}
