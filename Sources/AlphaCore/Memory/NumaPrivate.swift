// TEMPORARY: minimal private NUMA calls for Memory until the CPU capability's NUMA wrappers
// (Sources/AlphaCore/CPU/, issue 4) land on main. To be replaced by those wrappers.
import CAlphaCoreShims
import CLibNuma
import Glibc

enum MemNuma {
    /// Binds [addr, addr+len) to `node`: MPOL_BIND when strict, else MPOL_PREFERRED.
    static func bind(_ addr: UnsafeMutableRawPointer, _ len: Int, node: Int32, strict: Bool) throws(Errno) {
        guard node >= 0 && node < 1024 else { throw Errno.fail(EINVAL, "node \(node) is out of range") }
        var mask = [UInt](repeating: 0, count: 1024 / UInt.bitWidth)
        mask[Int(node) / UInt.bitWidth] |= 1 << (UInt(node) % UInt(UInt.bitWidth))
        let mode = strict ? MPOL_BIND : MPOL_PREFERRED
        let rc = mask.withUnsafeBufferPointer { mbind(addr, UInt(len), Int32(mode), $0.baseAddress, 1025, 0) }
        if rc != 0 { throw Errno.fromErrno("mbind of \(len) bytes to node \(node) failed") }
    }

    /// The nodes of the given pages (faulted-in only), -errno per page as move_pages reports.
    static func nodes(of pages: [UnsafeMutableRawPointer]) -> [Int32] {
        var ptrs: [UnsafeMutableRawPointer?] = pages
        var status = [Int32](repeating: -ENOENT, count: pages.count)
        let rc = ptrs.withUnsafeMutableBufferPointer { p in
            status.withUnsafeMutableBufferPointer { s in
                move_pages(0, UInt(pages.count), p.baseAddress, nil, s.baseAddress, 0)
            }
        }
        if rc < 0 { return [Int32](repeating: -1, count: pages.count) }
        return status
    }

    /// The NUMA node of the CPU the calling thread runs on.
    static func currentNode() -> Int32 {
        var cpu: UInt32 = 0, node: UInt32 = 0
        if acshim_getcpu(&cpu, &node) != 0 { return 0 }
        return Int32(truncatingIfNeeded: node)
    }
}
