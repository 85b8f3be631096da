// The report in words: what backs a region and why each better tier was refused.
import CAlphaCoreShims
import Glibc

extension Region {
    /// A report in words: what backs the region and why each better tier was refused.
    public var report: String {
        let region = self
        let entry = Region.registry.entry(cookie: region.cookie, address: region.address)
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
            if why.isEmpty { why = Region.defaultReason(tier, code, requested: region.requested) }
            s += "  \(tier.name): refused (\(Region.errnoName(code))): \(why)\n"
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
