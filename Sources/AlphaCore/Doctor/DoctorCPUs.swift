// The doctor's view of CPU lists: sorted arrays of CPU ids. Parsing and formatting are the CPU
// capability's; this adapter only adds what sysfs files need around it (an empty file or
// "(null)" is the empty set; isolcpus= carries flag words before its list).
import Glibc
enum DoctorCPUs {
    /// A cpulist ("0-3,8"); "" and "(null)" are the empty set.
    static func parse(_ text: String) throws(Errno) -> [Int] {
        let t = SysFile.trim(text)
        if t.isEmpty || t == "(null)" { return [] }
        return try CPUListParsing.parse(t)
    }

    /// A hexadecimal mask in 32-bit groups separated by commas ("ff,00000001").
    static func parseMask(_ text: String) throws(Errno) -> [Int] {
        try CPUListParsing.parseMask(SysFile.trim(text))
    }

    /// The canonical cpulist text ("0-3,8"), "" for none.
    static func format(_ cpus: [Int]) -> String { CPUListParsing.format(cpus) }

    /// isolcpus=[flag,...,]cpulist: the flags are words (domain, nohz, managed_irq).
    static func parseIsolcpus(_ arg: String) -> Result<[Int], DoctorProblem> {
        var items = arg.split(separator: ",", omittingEmptySubsequences: false)
        while let first = items.first, let c = first.first, c.isLetter { items.removeFirst() }
        do throws(Errno) {
            return .success(try parse(items.joined(separator: ",")))
        } catch {
            return .failure(DoctorProblem("isolcpus=\(arg) on the kernel command line is not a CPU list"))
        }
    }

    /// The flags of isolcpus= ("managed_irq", "domain", "nohz").
    static func isolcpusFlags(_ arg: String) -> [String] {
        arg.split(separator: ",").filter { $0.first?.isLetter == true }.map(String.init)
    }

    static func minus(_ a: [Int], _ b: [Int]) -> [Int] { let s = Set(b); return a.filter { !s.contains($0) } }
    static func intersect(_ a: [Int], _ b: [Int]) -> [Int] { let s = Set(b); return a.filter { s.contains($0) } }
}

/// Temporary cpulist parsing until the CPU capability's CPUSet lands on main; then the adapter
/// above calls it and this goes away.
enum CPUListParsing {
    static func parse(_ t: String) throws(Errno) -> [Int] {
        var out: [Int] = []
        for item in t.split(separator: ",", omittingEmptySubsequences: false) {
            let ends = item.split(separator: "-", omittingEmptySubsequences: false)
            guard ends.count == 1 || ends.count == 2,
                  let lo = HugePageNeed.decimal(ends[0]), lo < 1 << 16 else {
                throw Errno.fail(EINVAL, "'\(t)' is not a CPU list")
            }
            let hi = ends.count == 2 ? HugePageNeed.decimal(ends[1]) : lo
            guard let hi, hi >= lo, hi < 1 << 16 else { throw Errno.fail(EINVAL, "'\(t)' is not a CPU list") }
            out.append(contentsOf: lo...hi)
        }
        return Array(Set(out)).sorted()
    }

    static func parseMask(_ t: String) throws(Errno) -> [Int] {
        var out: [Int] = []
        let groups = t.split(separator: ",", omittingEmptySubsequences: false)
        if groups.isEmpty || groups.count > 2048 { throw Errno.fail(EINVAL, "'\(t)' is not a CPU mask") }
        for (gi, group) in groups.reversed().enumerated() {
            guard !group.isEmpty, group.count <= 8, let v = UInt32(group, radix: 16) else {
                throw Errno.fail(EINVAL, "'\(t)' is not a CPU mask")
            }
            for bit in 0..<32 where v & (1 << UInt32(bit)) != 0 { out.append(gi * 32 + bit) }
        }
        return out.sorted()
    }

    static func format(_ cpus: [Int]) -> String {
        let s = Array(Set(cpus)).sorted()
        var parts: [String] = []
        var i = 0
        while i < s.count {
            var j = i
            while j + 1 < s.count && s[j + 1] == s[j] + 1 { j += 1 }
            parts.append(i == j ? "\(s[i])" : "\(s[i])-\(s[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }
}
