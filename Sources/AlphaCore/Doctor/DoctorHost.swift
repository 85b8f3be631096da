// What the doctor reads, once per run: small files below the system root, each either its text
// or the reason it could not be read, and the facts several checks share (kernel command line,
// online, isolated and allowed CPUs, the process status).
import Glibc

/// A file's content, or why there is none.
enum Reading {
    case text(String)
    case missing(String)

    var text: String? { if case .text(let t) = self { return t } else { return nil } }
    /// The reason there is no text ("" if there is).
    var reason: String { if case .missing(let r) = self { return r } else { return "" } }
}

/// One run's view of the host. Never throws: every problem is a reason the checks can report.
final class DoctorHost {
    let root: String
    /// True when reading the running system (root ""): live system calls may then complement files.
    var live: Bool { root.isEmpty }

    private var cache: [String: Reading] = [:]

    init(root: String) { self.root = root }

    /// Reads `absolute` below the root (cached for the run). Up to 256 KiB.
    func read(_ absolute: String) -> Reading {
        if let hit = cache[absolute] { return hit }
        let result: Reading
        var st = stat()
        if !live, stat(root + absolute, &st) == 0, st.st_mode & S_IFMT == S_IFIFO || st.st_mode & S_IFMT == S_IFSOCK {
            // A FIFO in a copied tree would block open(2) for ever: proc and sys hold none.
            result = .missing("\(absolute) is a FIFO or socket, not a file")
        } else {
            do {
                result = .text(try SysFile.read(root + absolute, limit: 256 << 10))
            } catch {
                result = .missing(Self.stripRoot(Detail.current, root: root))
            }
        }
        cache[absolute] = result
        return result
    }

    /// The trimmed content, or nil.
    func trimmed(_ absolute: String) -> String? { read(absolute).text.map { SysFile.trim($0) } }

    func exists(_ absolute: String) -> Bool { SysFile.exists(root + absolute) }

    func list(_ absolute: String) -> [String]? { SysFile.list(root + absolute) }

    /// Details mention the full path; reports show the path as the host sees it.
    static func stripRoot(_ s: String, root: String) -> String {
        if root.isEmpty { return s }
        var out = ""
        var rest = Substring(s)
        while let r = rest.rangeOfText(root) {
            out += rest[..<r.lowerBound]
            rest = rest[r.upperBound...]
        }
        return out + rest
    }

    // MARK: shared facts

    /// /proc/cmdline split into parameters ("isolcpus" -> "managed_irq,domain,2-3").
    lazy var cmdline: [String: String]? = {
        guard let text = read("/proc/cmdline").text else { return nil }
        var params: [String: String] = [:]
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }) {
            if word == "--" { break }  // what follows is for init
            if let eq = word.firstIndex(of: "=") {
                params[String(word[..<eq])] = String(word[word.index(after: eq)...])
            } else {
                params[String(word)] = ""
            }
        }
        return params
    }()

    /// "key: value" lines of /proc/self/status.
    lazy var status: [String: String]? = {
        guard let text = read("/proc/self/status").text else { return nil }
        return Self.keyValues(text, separator: ":")
    }()

    /// Space or tab: the field separators of procfs tables.
    static func isBlank(_ c: Character) -> Bool { c == " " || c == "\t" }

    /// Lines "key<sep>value" as a dictionary (values trimmed).
    static func keyValues(_ text: String, separator: Character) -> [String: String] {
        var kv: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let i = line.firstIndex(of: separator) else { continue }
            kv[SysFile.trim(line[..<i])] = SysFile.trim(line[line.index(after: i)...])
        }
        return kv
    }

    /// A cpulist file as a set, or why not.
    func cpuList(_ absolute: String) -> Result<[Int], DoctorProblem> {
        cpus(absolute, "a CPU list", DoctorCPUs.parse)
    }

    /// A hexadecimal CPU mask file ("ff,fffffff0") as a set, or why not.
    func cpuMask(_ absolute: String) -> Result<[Int], DoctorProblem> {
        cpus(absolute, "a CPU mask", DoctorCPUs.parseMask)
    }

    /// A file of CPUs read with `parse`, or why not (`what` names the expected form).
    private func cpus(_ absolute: String, _ what: String,
                      _ parse: (String) throws(Errno) -> [Int]) -> Result<[Int], DoctorProblem> {
        switch read(absolute) {
        case .missing(let why): return .failure(DoctorProblem(why))
        case .text(let t):
            do throws(Errno) { return .success(try parse(SysFile.trim(t))) } catch {
                return .failure(DoctorProblem("\(absolute) holds '\(Self.excerpt(t))', not \(what)"))
            }
        }
    }

    /// An integer file, or why not.
    func integer(_ absolute: String) -> Result<Int64, DoctorProblem> {
        switch read(absolute) {
        case .missing(let why): return .failure(DoctorProblem(why))
        case .text(let t):
            if let v = Int64(SysFile.trim(t)) { return .success(v) }
            return .failure(DoctorProblem("\(absolute) holds '\(Self.excerpt(t))', not an integer"))
        }
    }

    /// Two integer files, or why not (the first problem).
    func integers(_ a: String, _ b: String) -> Result<(Int64, Int64), DoctorProblem> {
        integer(a).flatMap { x in integer(b).map { (x, $0) } }
    }

    /// The selected word of a sysfs choice file ("always [madvise] never" -> "madvise").
    func selected(_ absolute: String) -> Result<String, DoctorProblem> {
        switch read(absolute) {
        case .missing(let why): return .failure(DoctorProblem(why))
        case .text(let t):
            if let open = t.firstIndex(of: "["), let close = t[open...].firstIndex(of: "]") {
                let word = String(t[t.index(after: open)..<close])
                if !word.isEmpty && !word.containsText(" ") { return .success(word) }
            }
            return .failure(DoctorProblem("\(absolute) holds '\(Self.excerpt(t))', no [selected] word"))
        }
    }

    /// The first 40 characters of a file for a message, on one line.
    static func excerpt(_ t: String) -> String {
        var s = String(SysFile.trim(t).prefix(40))
        s = String(s.map { $0 == "\n" || $0 == "\t" ? " " : $0 })
        return s
    }

    /// Online CPUs.
    lazy var online: Result<[Int], DoctorProblem> = cpuList("/sys/devices/system/cpu/online")

    /// Isolated CPUs: the sysfs file (which reflects isolcpus' domain flag), else the cmdline.
    lazy var isolated: Result<[Int], DoctorProblem> = {
        let fromFile = cpuList("/sys/devices/system/cpu/isolated")
        if case .success = fromFile { return fromFile }
        if let arg = cmdline?["isolcpus"] { return DoctorCPUs.parseIsolcpus(arg) }
        return fromFile
    }()

    /// nohz_full CPUs: the sysfs file (absent when the kernel lacks NO_HZ_FULL), else the cmdline.
    lazy var nohzFull: Result<[Int], DoctorProblem> = {
        let fromFile = cpuList("/sys/devices/system/cpu/nohz_full")
        if case .success = fromFile { return fromFile }
        if case .failure(let p) = fromFile, cmdline?["nohz_full"] != nil {
            return .failure(DoctorProblem("nohz_full= is on the command line but \(p.reason): the kernel was built without NO_HZ_FULL"))
        }
        return fromFile
    }()
}

/// Why a fact is unknown.
struct DoctorProblem: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
