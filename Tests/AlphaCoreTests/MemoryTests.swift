import Testing
import Glibc
@testable import AlphaCore

/// A fixture /sys tree with two nodes and two huge page sizes (written per test, removed after).
private func withFixtureRoot(_ body: (String) throws -> Void) throws {
    var template = Array("/tmp/alphacore-memfix-XXXXXX".utf8CString)
    let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    defer { _ = system("rm -rf '\(dir)'") }
    func put(_ path: String, _ value: String) {
        let full = dir + path
        _ = system("mkdir -p '\(full.split(separator: "/").dropLast().joined(separator: "/").withLeadingSlash)'")
        let f = fopen(full, "w")!
        fputs(value + "\n", f)
        fclose(f)
    }
    let g2 = "/sys/kernel/mm/hugepages/hugepages-2048kB"
    put("\(g2)/nr_hugepages", "100"); put("\(g2)/free_hugepages", "60"); put("\(g2)/resv_hugepages", "10")
    put("\(g2)/surplus_hugepages", "2"); put("\(g2)/nr_overcommit_hugepages", "8")
    let g1 = "/sys/kernel/mm/hugepages/hugepages-1048576kB"
    put("\(g1)/nr_hugepages", "2"); put("\(g1)/free_hugepages", "1"); put("\(g1)/resv_hugepages", "1")
    put("\(g1)/surplus_hugepages", "0"); put("\(g1)/nr_overcommit_hugepages", "0")
    for (n, free) in [(0, "50"), (1, "10")] {
        let d = "/sys/devices/system/node/node\(n)/hugepages/hugepages-2048kB"
        put("\(d)/nr_hugepages", n == 0 ? "80" : "20"); put("\(d)/free_hugepages", free); put("\(d)/surplus_hugepages", "1")
        let e = "/sys/devices/system/node/node\(n)/hugepages/hugepages-1048576kB"
        put("\(e)/nr_hugepages", "1"); put("\(e)/free_hugepages", n == 0 ? "1" : "0"); put("\(e)/surplus_hugepages", "0")
    }
    try body(dir)
}

private extension String {
    var withLeadingSlash: String { hasPrefix("/") ? self : "/" + self }
}

@Suite struct HugePagePoolTests {
    @Test func fixturePoolsComputeUsableAsDPDK() throws {
        try withFixtureRoot { root in
            #expect(HugePages.sizes(root: root) == [1 << 30, 1 << 21])
            #expect(HugePages.nodes(root: root) == [0, 1])
            let g = try HugePages.pool(pageSize: 1 << 21, root: root)
            // free - resv + (overcommit - surplus) = 60 - 10 + (8 - 2)
            #expect(g.usable == 56)
            #expect(g.total == 100 && g.free == 60 && g.reserved == 10 && g.surplus == 2 && g.overcommit == 8)
            let n1 = try HugePages.pool(pageSize: 1 << 21, node: 1, global: g, root: root)
            #expect(n1.usable == 16)   // min(10 + 6, 56)
            let n0 = try HugePages.pool(pageSize: 1 << 21, node: 0, global: g, root: root)
            #expect(n0.usable == 56)   // min(50 + 6, 56)
            let all = HugePages.allPools(root: root)
            #expect(all.count == 6)
            #expect(all.first?.pageSize == 1 << 30 && all.first?.node == -1)
            #expect(all.first?.usable == 0)   // 1 free, 1 reserved
        }
    }

    @Test func ladderCheckPerNodeAndSnapshots() throws {
        try withFixtureRoot { root in
            let p = 1 << 21
            // node 1: min(10 free + 6 headroom, 56 usable) = 16
            try HugePages.requireUsable(pageSize: p, pages: 16, node: 1, root: root)
            #expect(throws: Errno(ENOMEM)) { try HugePages.requireUsable(pageSize: p, pages: 17, node: 1, root: root) }
            #expect(Detail.current.contains("on node 1 (10 free there)"))
            try HugePages.requireUsable(pageSize: p, pages: 56, node: -1, root: root)
            #expect(throws: Errno(ENOMEM)) { try HugePages.requireUsable(pageSize: p, pages: 57, node: -1, root: root) }
            #expect(throws: Errno(EOPNOTSUPP)) { try HugePages.requireUsable(pageSize: 1 << 16, pages: 1, node: -1, root: root) }
            #expect(throws: Errno(EOPNOTSUPP)) { try HugePages.requireUsable(pageSize: p, pages: 1, node: 5, root: root) }
            // The pool empties: once this process invalidates the snapshot (it does on every hugetlb
            // mmap/munmap) the counters are read again: 0 free (so none reserved) + (8 - 2) = 6.
            let free = root + "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
            let f = fopen(free, "w")!
            fputs("0\n", f)
            fclose(f)
            HugePages.invalidateSnapshots()
            #expect(throws: Errno(ENOMEM)) { try HugePages.requireUsable(pageSize: p, pages: 7, node: -1, root: root) }
            #expect(Detail.current.contains("6 usable (free 0, reserved 0, overcommit 8, surplus 2)"))
            try HugePages.requireUsable(pageSize: p, pages: 6, node: -1, root: root)
        }
    }

    @Test func missingPageSizeIsEOPNOTSUPP() throws {
        try withFixtureRoot { root in
            #expect(throws: Errno(EOPNOTSUPP)) { try HugePages.pool(pageSize: 1 << 16, root: root) }
        }
    }

    @Test func countParsing() {
        #expect(HugePages.pageKB(fromDirectoryName: "hugepages-2048kB") == 2048)
        #expect(HugePages.pageKB(fromDirectoryName: "hugepages-kB") == nil)
        #expect(HugePages.pageKB(fromDirectoryName: "other") == nil)
    }
}

@Suite struct RegionTests {
    @Test func badInputIsAnErrorNotATrap() {
        #expect(throws: Errno(EINVAL)) { try Region.allocate(size: 0) }
        #expect(throws: Errno(EOVERFLOW)) { try Region.allocate(size: Int.max) }
        #expect(throws: Errno(EOVERFLOW)) { try Region.allocate(size: -1) }
        #expect(throws: Errno(EINVAL)) { try Region.allocate(size: 4096, options: .init(flags: .init(rawValue: 1 << 9))) }
        #expect(throws: Errno(EINVAL)) { try Region.allocate(size: 4096, options: .init(node: 4000)) }
        #expect(throws: Errno(EINVAL)) { try Region.allocate(size: 4096, options: .init(pageSize: 12345)) }
    }

    @Test func baseRegionIsWritableAndFreedOnce() throws {
        let r = try Region.allocate(size: 10_000, options: .init(pageSize: Region.basePageSize, flags: .prefault))
        #expect(r.backing == .base)
        #expect(r.size == 12_288)
        #expect(r.refused[.huge1G] == ECANCELED && r.refused[.thp] == ECANCELED)
        #expect(r.flags.contains(.prefaulted))
        r.bytes.initializeMemory(as: UInt8.self, repeating: 0x5a)
        #expect(r.bytes[12_287] == 0x5a)
        #expect(r.report.contains("4 KiB pages"))
        #expect(Region.registry.entry(cookie: r.cookie, address: r.address) != nil)
        try r.free()
        #expect(throws: Errno(EINVAL)) { try r.free() }
        // This region's registration is gone. (Not the registry's count: tests running at the
        // same time in this process allocate and free regions of their own.)
        #expect(Region.registry.entry(cookie: r.cookie, address: r.address) == nil)
    }

    @Test func requireHugeWithBasePreferenceIsRejected() {
        #expect(throws: Errno(EINVAL)) {
            try Region.allocate(size: 4096, options: .init(pageSize: Region.basePageSize, flags: .requireHuge))
        }
    }

    @Test func planMapsNothing() throws {
        let p = try Region.plan(size: 4096)
        #expect(p.address == nil && p.cookie == 0)
        #expect(p.backing == .base)   // 4 KiB: too small for every huge tier
        #expect(p.refused[.huge1G] == ERANGE && p.refused[.huge2M] == ERANGE && p.refused[.thp] == ERANGE)
    }

    @Test func sharedNamesAndMountEscapes() {
        #expect(throws: Errno(EINVAL)) { try SharedRegion.validate("") }
        #expect(throws: Errno(EINVAL)) { try SharedRegion.validate(".x") }
        #expect(throws: Errno(EINVAL)) { try SharedRegion.validate("a/b") }
        #expect(throws: Errno(EINVAL)) { try SharedRegion.validate(String(repeating: "a", count: 201)) }
        #expect(throws: Errno(EINVAL)) { try SharedRegion.validate("é") }
        #expect((try? SharedRegion.validate("book-1.v2_x")) != nil)
        #expect(SharedRegion.unescape("/mnt/huge\\040pages") == "/mnt/huge pages")
        #expect(SharedRegion.unescape("/a\\") == "/a\\")
        #expect(SharedRegion.candidates("b").last == "/dev/shm/alphacore.b")
    }

    @Test func smapsRangeParsing() {
        #expect(Smaps.vmaRange(Array("7f00-7f10 rw-p 00000000 00:00 0".utf8))! == (0x7f00, 0x7f10))
        #expect(Smaps.vmaRange(Array("AnonHugePages:  2048 kB".utf8)) == nil)
        #expect(Smaps.kilobytes(Array("   2048 kB".utf8)) == 2048)
    }
}

@Suite struct SharedRegionTests {
    @Test func createOpenSeeTheSameBytes() throws {
        let name = "swifttest-\(getpid())-\(UInt32.random(in: 0 ... .max))"   // a stale file of a recycled pid cannot collide
        let a = try SharedRegion.create(name: name, size: 100_000, options: .init(flags: .prefault))
        defer { _ = try? SharedRegion.unlink(name: name) }
        #expect(a.flags.contains(.shared) && a.fd >= 0)
        #expect(a.size == 102_400)
        #expect(a.report.contains("/alphacore.\(name)"))
        #expect(throws: Errno(EEXIST)) { try SharedRegion.create(name: name, size: 4096) }
        let b = try SharedRegion.open(name: name)
        #expect(b.size == a.size && b.address != a.address)
        a.bytes[99_999] = 0x77
        #expect(b.bytes[99_999] == 0x77)
        try b.free()
        try a.free()
        #expect(throws: Errno(EINVAL)) { try a.free() }
        try SharedRegion.unlink(name: name)
        #expect(throws: Errno(ENOENT)) { try SharedRegion.open(name: name) }
    }
}
