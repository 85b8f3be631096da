// The C ABI for huge-page memory regions. Thin: argument checks, then AlphaCore.Memory.
import AlphaCore
import CAlphaCoreABI
import Glibc

extension alphacore_mem_opts: VersionedStruct {
    static let cName: StaticString = "alphacore_mem_opts"

    /// The C struct of Swift options (NULL options mean `MemOptions()`).
    init(_ o: MemOptions) {
        self.init(struct_size: UInt32(MemoryLayout<Self>.size), flags: o.flags.rawValue, node: o.node, reserved0: 0,
                  page_size: UInt64(o.pageSize), reserved: (0, 0, 0, 0))
    }
}

func memOptions(_ raw: UnsafePointer<alphacore_mem_opts>?) throws(Errno) -> MemOptions {
    let o = try readVersioned(raw, defaults: alphacore_mem_opts(MemOptions()))
    try requireZero(o.reserved0, "alphacore_mem_opts.reserved0")
    try requireZero(o.reserved, "alphacore_mem_opts.reserved")
    if o.page_size > UInt64(Int.max) { throw Errno.fail(EINVAL, "page size \(o.page_size) is not supported") }
    return MemOptions(node: o.node, pageSize: Int(o.page_size), flags: .init(rawValue: o.flags))
}

func cRegion(_ r: Region) -> alphacore_region {
    alphacore_region(
        addr: r.address, size: UInt64(r.size), requested: UInt64(r.requested), page_size: UInt64(r.pageSize),
        huge_bytes: UInt64(r.hugeBytes), backing: r.backing.rawValue, node: r.node,
        refused: (0 &- r.refused[.huge1G], 0 &- r.refused[.huge2M], 0 &- r.refused[.thp], 0 &- r.refused[.base]),
        flags: r.flags.rawValue, fd: r.fd, cookie: r.cookie, reserved: (0, 0, 0, 0))
}

/// The Swift value of a caller's struct (validated enough to look it up; the registry decides).
func swiftRegion(_ c: alphacore_region) -> Region? {
    guard c.size <= UInt64(Int.max), c.requested <= UInt64(Int.max), c.page_size <= UInt64(Int.max),
          c.huge_bytes <= UInt64(Int.max), let backing = Backing(rawValue: c.backing) else { return nil }
    var refused = Refusals()
    refused[.huge1G] = 0 &- c.refused.0
    refused[.huge2M] = 0 &- c.refused.1
    refused[.thp] = 0 &- c.refused.2
    refused[.base] = 0 &- c.refused.3
    return Region(address: c.addr, size: Int(c.size), requested: Int(c.requested), pageSize: Int(c.page_size),
                  hugeBytes: Int(c.huge_bytes), backing: backing, node: c.node, refused: refused,
                  flags: RegionFlags(rawValue: c.flags), fd: c.fd, cookie: c.cookie)
}

/// alloc and plan: the same checks, then one AlphaCore call that yields a Region.
private func fillRegion(_ size: Int, _ opts: UnsafePointer<alphacore_mem_opts>?,
                        _ out: UnsafeMutablePointer<alphacore_region>?,
                        _ body: (Int, MemOptions) throws(Errno) -> Region) -> Int32 {
    cStatus { () throws(Errno) in
        guard let out else { throw Errno.fail(EINVAL, "out is NULL") }
        out.pointee = cRegion(try body(size, try memOptions(opts)))
        return 0
    }
}

@c @implementation
public func alphacore_mem_alloc(_ size: Int, _ opts: UnsafePointer<alphacore_mem_opts>?,
                                _ out: UnsafeMutablePointer<alphacore_region>?) -> Int32 {
    fillRegion(size, opts, out) { (s, o) throws(Errno) in try Region.allocate(size: s, options: o) }
}

@c @implementation
public func alphacore_mem_plan(_ size: Int, _ opts: UnsafePointer<alphacore_mem_opts>?,
                               _ out: UnsafeMutablePointer<alphacore_region>?) -> Int32 {
    fillRegion(size, opts, out) { (s, o) throws(Errno) in try Region.plan(size: s, options: o) }
}

@c @implementation
public func alphacore_mem_shared_create(_ name: UnsafePointer<CChar>?, _ size: Int,
                                        _ opts: UnsafePointer<alphacore_mem_opts>?,
                                        _ out: UnsafeMutablePointer<alphacore_region>?) -> Int32 {
    fillRegion(size, opts, out) { (s, o) throws(Errno) in
        try SharedRegion.create(name: try readCString(name, limit: 255, what: "name"), size: s, options: o)
    }
}

@c @implementation
public func alphacore_mem_shared_open(_ name: UnsafePointer<CChar>?, _ opts: UnsafePointer<alphacore_mem_opts>?,
                                      _ out: UnsafeMutablePointer<alphacore_region>?) -> Int32 {
    fillRegion(1, opts, out) { (_, o) throws(Errno) in
        try SharedRegion.open(name: try readCString(name, limit: 255, what: "name"), options: o)
    }
}

@c @implementation
public func alphacore_mem_shared_unlink(_ name: UnsafePointer<CChar>?) -> Int32 {
    cStatus { () throws(Errno) in
        try SharedRegion.unlink(name: try readCString(name, limit: 255, what: "name"))
        return 0
    }
}

@c @implementation
public func alphacore_mem_free(_ r: UnsafeMutablePointer<alphacore_region>?) -> Int32 {
    cStatus { () throws(Errno) in
        guard let r else { throw Errno.fail(EINVAL, "region is NULL") }
        guard let region = swiftRegion(r.pointee) else {
            throw Errno.fail(EINVAL, "not a region of this library (fields out of range)")
        }
        try region.free()
        r.pointee = alphacore_region(
            addr: nil, size: 0, requested: 0, page_size: 0, huge_bytes: 0, backing: 0, node: -1,
            refused: (0, 0, 0, 0), flags: 0, fd: -1, cookie: 0, reserved: (0, 0, 0, 0))
        return 0
    }
}

@c @implementation
public func alphacore_mem_report(_ r: UnsafePointer<alphacore_region>?, _ buf: UnsafeMutablePointer<CChar>?,
                                 _ cap: Int) -> Int32 {
    cCount { () throws(Errno) in
        guard let r else { throw Errno.fail(EINVAL, "region is NULL") }
        guard let region = swiftRegion(r.pointee) else {
            throw Errno.fail(EINVAL, "not a region of this library (fields out of range)")
        }
        return try writeCString(region.report.utf8, to: buf, capacity: cap)
    }
}

@c @implementation
public func alphacore_hugepage_pools(_ out: UnsafeMutablePointer<alphacore_hugepage_pool>?, _ cap: Int) -> Int32 {
    cCount { () throws(Errno) in
        if cap < 0 { throw Errno.fail(EINVAL, "capacity is negative") }
        if out == nil && cap != 0 { throw Errno.fail(EINVAL, "out is NULL but cap is \(cap)") }
        let pools = HugePages.allPools()
        if let out {
            for (i, p) in pools.prefix(cap).enumerated() {
                out[i] = alphacore_hugepage_pool(
                    page_size: UInt64(p.pageSize), node: p.node, reserved0: 0, total: UInt64(p.total),
                    free: UInt64(p.free), reserved: UInt64(p.reserved), surplus: UInt64(p.surplus),
                    overcommit: UInt64(p.overcommit), usable: UInt64(p.usable))
            }
        }
        return pools.count
    }
}
