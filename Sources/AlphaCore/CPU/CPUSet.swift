import Glibc

/// A set of CPU (or NUMA node) ids as a bitmask of 64-bit words, with the Linux cpulist text
/// form ("0-3,8,10-11"). The words never end in a zero word, so two equal sets compare equal
/// whatever their history. Kernel calls take `words(count:)`, sized from the possible CPUs
/// (`Topology.maskWords`), never from CPU_SETSIZE.
public struct CPUSet: Hashable, Sendable, Sequence, CustomStringConvertible {
    /// The bitmask, CPU `i` at bit `i % 64` of word `i / 64`; no trailing zero word.
    public private(set) var words: [UInt64]

    /// The largest id a cpulist may name (parsing rejects larger ids with ERANGE). Linux's
    /// NR_CPUS is at most 8192 and MAX_NUMNODES 1024; this leaves room without letting a
    /// hostile string allocate gigabytes.
    public static let maxID = (1 << 20) - 1

    public init() { words = [] }

    /// A set from raw words (trailing zero words are dropped).
    public init<C: Collection>(words: C) where C.Element == UInt64 {
        self.words = Array(words)
        trim()
    }

    /// A set of the given ids (each must be in 0...maxID; others are ignored).
    public init<S: Sequence>(_ ids: S) where S.Element == Int {
        words = []
        for id in ids where id >= 0 && id <= CPUSet.maxID { insert(id) }
    }

    /// The ids `range`, e.g. `CPUSet(range: 0..<4)`.
    public init(range: Range<Int>) { self.init(range) }

    public func contains(_ id: Int) -> Bool {
        guard id >= 0 else { return false }
        let w = id &>> 6
        guard w < words.count else { return false }
        return words[w] & (1 &<< UInt64(id & 63)) != 0
    }

    /// Inserts `id` (0...maxID; others are ignored).
    public mutating func insert(_ id: Int) {
        guard id >= 0 && id <= CPUSet.maxID else { return }
        let w = id &>> 6
        if w >= words.count { words.append(contentsOf: repeatElement(0, count: w - words.count + 1)) }
        words[w] |= 1 &<< UInt64(id & 63)
    }

    public mutating func remove(_ id: Int) {
        guard contains(id) else { return }
        words[id &>> 6] &= ~(1 &<< UInt64(id & 63))
        trim()
    }

    public var isEmpty: Bool { words.isEmpty }
    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }
    /// The smallest id, or nil when empty.
    public var first: Int? {
        for (i, w) in words.enumerated() where w != 0 { return i * 64 + w.trailingZeroBitCount }
        return nil
    }
    /// The largest id, or nil when empty.
    public var last: Int? {
        guard let w = words.last else { return nil }
        return (words.count - 1) * 64 + 63 - w.leadingZeroBitCount
    }

    public func intersection(_ other: CPUSet) -> CPUSet {
        CPUSet(words: zip(words, other.words).map { $0 & $1 })
    }

    public func union(_ other: CPUSet) -> CPUSet {
        let n = Swift.max(words.count, other.words.count)
        return CPUSet(words: (0..<n).map { i in
            (i < words.count ? words[i] : 0) | (i < other.words.count ? other.words[i] : 0)
        })
    }

    public func subtracting(_ other: CPUSet) -> CPUSet {
        CPUSet(words: words.enumerated().map { i, w in i < other.words.count ? w & ~other.words[i] : w })
    }

    public func isSubset(of other: CPUSet) -> Bool { subtracting(other).isEmpty }
    public func isDisjoint(with other: CPUSet) -> Bool { intersection(other).isEmpty }

    /// Exactly `count` words (zero-padded or cut), for a kernel call.
    public func words(count: Int) -> [UInt64] {
        (0..<Swift.max(count, 0)).map { $0 < words.count ? words[$0] : 0 }
    }

    /// The ids in increasing order.
    public var ids: [Int] { Array(self) }

    public func makeIterator() -> Iterator { Iterator(words: words) }

    public struct Iterator: IteratorProtocol {
        let words: [UInt64]
        var index = 0
        var current: UInt64
        init(words: [UInt64]) {
            self.words = words
            current = words.first ?? 0
        }
        public mutating func next() -> Int? {
            while current == 0 {
                index += 1
                if index >= words.count { return nil }
                current = words[index]
            }
            let bit = current.trailingZeroBitCount
            current &= current &- 1
            return index * 64 + bit
        }
    }

    /// The Linux cpulist form: runs of two or more as "a-b", joined by ","; "" when empty.
    public var cpulist: String {
        var out = ""
        var runStart = -1
        var previous = -2
        func flush() {
            guard runStart >= 0 else { return }
            if !out.isEmpty { out += "," }
            out += previous == runStart ? "\(runStart)" : "\(runStart)-\(previous)"
        }
        for id in self {
            if id != previous + 1 {
                flush()
                runStart = id
            }
            previous = id
        }
        flush()
        return out
    }

    public var description: String { cpulist }

    /// Parses the cpulist of a sysfs or procfs file: surrounding whitespace is dropped, and an
    /// empty file or "(null)" is the empty set (sysfs prints "(null)" for a mask never
    /// allocated: nohz_full without nohz_full= on kernels built with CPUMASK_OFFSTACK).
    public static func parseSysfs(_ text: String, what: String) throws(Errno) -> CPUSet {
        let t = SysFile.trim(text)
        if t == "(null)" { return CPUSet() }
        return try parse(t, what: what, allowEmpty: true)
    }

    /// Parses a cpulist strictly: items "N" or "A-B" (A <= B) joined by single commas, decimal
    /// digits only, no spaces, no signs, every id <= `maxID`. `what` names the input in the
    /// detail ("cpulist", "node list"). An empty string is an error unless `allowEmpty`
    /// (sysfs files such as `isolated` are legitimately empty).
    public static func parse(_ text: String, what: String = "cpulist", maxID: Int = CPUSet.maxID,
                             allowEmpty: Bool = false) throws(Errno) -> CPUSet {
        var set = CPUSet()
        let bytes = Array(text.utf8)
        if bytes.isEmpty {
            if allowEmpty { return set }
            throw Errno.fail(EINVAL, "\(what) is empty")
        }
        if bytes.count > 1 << 16 {
            throw Errno.fail(EINVAL, "\(what) is \(bytes.count) bytes long")
        }
        var i = 0
        func number() throws(Errno) -> Int {
            let start = i
            var value = 0
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                if value <= maxID { value = value * 10 + Int(bytes[i] - 0x30) }
                i += 1
            }
            if i == start {
                let at = i < bytes.count ? "'\(Character(Unicode.Scalar(bytes[i])))' at offset \(i)" : "the end"
                throw Errno.fail(EINVAL, "\(what) \"\(quoted(text))\": expected a number at \(at)")
            }
            if value > maxID {
                let digits = String(decoding: bytes[start..<i], as: UTF8.self)
                throw Errno.fail(ERANGE, "\(what) \"\(quoted(text))\": id \(digits) is above the largest id \(maxID)")
            }
            return value
        }
        while true {
            let lo = try number()
            var hi = lo
            if i < bytes.count, bytes[i] == 0x2D {  // '-'
                i += 1
                hi = try number()
                if hi < lo {
                    throw Errno.fail(EINVAL, "\(what) \"\(quoted(text))\": range \(lo)-\(hi) is reversed")
                }
            }
            set.insert(run: lo...hi)
            if i == bytes.count { break }
            if bytes[i] != 0x2C {  // ','
                throw Errno.fail(EINVAL, "\(what) \"\(quoted(text))\": unexpected '\(Character(Unicode.Scalar(bytes[i])))' at offset \(i)")
            }
            i += 1
            if i == bytes.count {
                throw Errno.fail(EINVAL, "\(what) \"\(quoted(text))\": ends with a comma")
            }
        }
        return set
    }

    /// Inserts every id of `run` word by word (a "0-1048575" list is 16384 words, not a million
    /// inserts).
    private mutating func insert(run: ClosedRange<Int>) {
        var id = run.lowerBound
        let hi = run.upperBound
        while id <= hi {
            let w = id &>> 6
            if w >= words.count {
                words.append(contentsOf: repeatElement(0, count: w - words.count + 1))
            }
            let bit = id & 63
            let span = Swift.min(64 - bit, hi - id + 1)
            let mask: UInt64 = span == 64 ? ~0 : ((1 &<< UInt64(span)) &- 1) &<< UInt64(bit)
            words[w] |= mask
            id += span
        }
    }

    /// The input as it may appear in a detail: at most 64 bytes, control bytes as '?'.
    static func quoted(_ text: String) -> String {
        var s = ""
        for (n, u) in text.unicodeScalars.enumerated() {
            if n == 64 { s += "..."; break }
            s.unicodeScalars.append(u.value < 0x20 || u.value == 0x7F ? "?" : u)
        }
        return s
    }

    private mutating func trim() {
        while let l = words.last, l == 0 { words.removeLast() }
    }
}
