// The doctor's view of CPU lists: sorted arrays of CPU ids. Parsing and formatting are the CPU
// capability's (CPUSet); this adapter only adds what sysfs files need around it (an empty file
// or "(null)" is the empty set; isolcpus= carries flag words before its list).
import Glibc
enum DoctorCPUs {
    /// A cpulist ("0-3,8"); "" and "(null)" are the empty set.
    static func parse(_ text: String) throws(Errno) -> [Int] {
        try CPUSet.parseSysfs(text, what: "CPU list").ids
    }

    /// A hexadecimal mask in 32-bit groups separated by commas ("ff,00000001").
    static func parseMask(_ text: String) throws(Errno) -> [Int] {
        try CPUMaskParsing.parse(SysFile.trim(text))
    }

    /// The canonical cpulist text ("0-3,8"), "" for none.
    static func format(_ cpus: [Int]) -> String { CPUSet(cpus).cpulist }

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

/// Hexadecimal CPU masks ("ff,00000001": 32-bit groups, most significant first), as
/// /proc/irq/default_smp_affinity and the workqueue cpumask show them.
enum CPUMaskParsing {
    static func parse(_ t: String) throws(Errno) -> [Int] {
        let groups = t.split(separator: ",", omittingEmptySubsequences: false)
        if groups.isEmpty || groups.count > 2048 { throw Errno.fail(EINVAL, "'\(t)' is not a CPU mask") }
        var words = [UInt64](repeating: 0, count: (groups.count + 1) / 2)
        for (gi, group) in groups.reversed().enumerated() {
            guard !group.isEmpty, group.count <= 8, let v = UInt32(group, radix: 16) else {
                throw Errno.fail(EINVAL, "'\(t)' is not a CPU mask")
            }
            words[gi / 2] |= UInt64(v) &<< UInt64(32 * (gi % 2))
        }
        return CPUSet(words: words).ids
    }

    /// The mask text of a set ("ff,00000001"), as sysfs writes it; "0" for none.
    static func format(_ cpus: [Int]) -> String {
        guard let top = cpus.max(), top >= 0 else { return "0" }
        var groups = [UInt32](repeating: 0, count: top / 32 + 1)
        for c in cpus where c >= 0 { groups[c / 32] |= 1 << UInt32(c % 32) }
        var text = groups.reversed().map { g -> String in
            let h = String(g, radix: 16)
            return String(repeating: "0", count: 8 - h.count) + h
        }.joined(separator: ",")
        while text.hasPrefix("0") && text.count > 1 && !text.hasPrefix("0,") { text.removeFirst() }
        return text
    }
}
