import Glibc

/// Prometheus' naming rules, checked at registration so that every exposition is valid:
///   metric names  [a-zA-Z_:][a-zA-Z0-9_:]*
///   label names   [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved), not "le" or
///                 "quantile" (the histogram and summary labels)
///   label values  any UTF-8 (escaped on output: \\, \" and \n)
/// Units are [a-z0-9_]* (OpenMetrics puts them in the name as a suffix).
///
/// Constant labels are given as one string in the exposition's own form,
/// `venue="XNAS",feed="A"` (the same escapes as the text format), so what a caller writes is what
/// a scrape shows. Failures name the offending character and its byte position.
public enum MetricNames {
    static func isNameStart(_ b: UInt8, colon: Bool) -> Bool {
        (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || b == 95 || (colon && b == 58)
    }
    static func isNameByte(_ b: UInt8, colon: Bool) -> Bool {
        isNameStart(b, colon: colon) || (b >= 48 && b <= 57)
    }

    static func describe(_ b: UInt8) -> String {
        if b >= 33 && b < 127 { return "'\(Character(Unicode.Scalar(b)))'" }
        let hex = String(b, radix: 16)
        return "byte 0x" + (hex.count < 2 ? "0" + hex : hex)
    }

    /// Checks a metric name (colon allowed) or a label name.
    public static func check(_ name: String, what: String, colon: Bool) throws(Errno) {
        let u = Array(name.utf8)
        if u.isEmpty { throw Errno.fail(EINVAL, "\(what) is empty") }
        if u.count > 200 { throw Errno.fail(EINVAL, "\(what) is \(u.count) bytes; the limit is 200") }
        for (i, b) in u.enumerated() {
            let ok = i == 0 ? isNameStart(b, colon: colon) : isNameByte(b, colon: colon)
            if !ok {
                let rule = colon ? "[a-zA-Z_:][a-zA-Z0-9_:]*" : "[a-zA-Z_][a-zA-Z0-9_]*"
                throw Errno.fail(EINVAL, "\(what) \"\(printable(name))\" has \(describe(b)) at byte \(i); Prometheus allows \(rule)")
            }
        }
    }

    public static func checkMetricName(_ name: String) throws(Errno) {
        try check(name, what: "metric name", colon: true)
    }

    public static func checkLabelName(_ name: String) throws(Errno) {
        try check(name, what: "label name", colon: false)
        if name.hasPrefix("__") { throw Errno.fail(EINVAL, "label name \"\(name)\" starts with \"__\", which Prometheus reserves") }
        if name == "le" || name == "quantile" {
            throw Errno.fail(EINVAL, "label name \"\(name)\" is reserved for histogram and summary buckets")
        }
    }

    /// Units: lower-case letters, digits and '_' (e.g. "seconds", "bytes"); "" for none.
    public static func checkUnit(_ unit: String) throws(Errno) {
        for (i, b) in unit.utf8.enumerated() where !((b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b == 95) {
            throw Errno.fail(EINVAL, "unit \"\(printable(unit))\" has \(describe(b)) at byte \(i); units are [a-z0-9_]*")
        }
    }

    /// Help text: any UTF-8 (it is escaped on output); bounded so a scrape stays small.
    public static func checkHelp(_ help: String) throws(Errno) {
        if help.utf8.count > 4096 { throw Errno.fail(EINVAL, "help text is \(help.utf8.count) bytes; the limit is 4096") }
        if !help.utf8.allSatisfy({ $0 != 0 }) { throw Errno.fail(EINVAL, "help text contains a NUL byte") }
    }

    /// A name safe to quote in a detail (non-printable bytes shown as '?').
    static func printable(_ s: String) -> String {
        String(decoding: s.utf8.prefix(64).map { $0 >= 32 && $0 < 127 ? $0 : 63 }, as: UTF8.self)
    }

    /// Parses `a="x",b="y"` (optional spaces after commas, a trailing comma allowed) into pairs,
    /// checking each name and rejecting a name given twice.
    public static func parseLabels(_ text: String) throws(Errno) -> [(name: String, value: String)] {
        let u = Array(text.utf8)
        var out: [(name: String, value: String)] = []
        var i = 0
        func fail(_ why: String) -> Errno {
            Errno.fail(EINVAL, "labels \"\(printable(text))\": \(why) at byte \(i)")
        }
        while i < u.count {
            while i < u.count && u[i] == 32 { i += 1 }
            if i == u.count { break }
            let start = i
            while i < u.count && u[i] != 61 { i += 1 }   // '='
            if i == u.count { throw fail("no '=' after the label name") }
            let name = String(decoding: u[start..<i], as: UTF8.self)
            try checkLabelName(name)
            if out.contains(where: { $0.name == name }) { throw Errno.fail(EINVAL, "label \"\(name)\" is given twice") }
            i += 1
            if i == u.count || u[i] != 34 { throw fail("the value is not quoted (expected '\"')") }
            i += 1
            var value: [UInt8] = []
            var closed = false
            while i < u.count {
                let b = u[i]
                if b == 34 { closed = true; i += 1; break }
                if b == 92 {   // backslash
                    i += 1
                    if i == u.count { break }
                    switch u[i] {
                    case 92: value.append(92)
                    case 34: value.append(34)
                    case 110: value.append(10)
                    default: throw fail("unknown escape \\\(describe(u[i]))")
                    }
                } else {
                    value.append(b)
                }
                i += 1
            }
            if !closed { throw fail("the value of \"\(name)\" has no closing '\"'") }
            if value.count > 1024 { throw Errno.fail(EINVAL, "the value of label \"\(name)\" is longer than 1024 bytes") }
            guard let v = String(validating: value, as: UTF8.self) else {
                throw Errno.fail(EINVAL, "the value of label \"\(name)\" is not valid UTF-8")
            }
            out.append((name, v))
            while i < u.count && u[i] == 32 { i += 1 }
            if i < u.count {
                if u[i] != 44 { throw fail("expected ',' between labels, found \(describe(u[i]))") }
                i += 1
            }
        }
        return out
    }

    /// Writes pairs as `a="x",b="y"` with the exposition escapes.
    public static func render(_ pairs: [(name: String, value: String)]) -> String {
        var s = ""
        for (k, p) in pairs.enumerated() {
            if k > 0 { s += "," }
            s += p.name + "=\"" + escape(p.value, quotes: true) + "\""
        }
        return s
    }

    /// The text format's escaping: \\ and \n always, \" in label values.
    public static func escape(_ s: String, quotes: Bool) -> String {
        if !s.utf8.contains(where: { $0 == 92 || $0 == 10 || (quotes && $0 == 34) }) { return s }
        var out: [UInt8] = []
        for b in s.utf8 {
            switch b {
            case 92: out += [92, 92]
            case 10: out += [92, 110]
            case 34 where quotes: out += [92, 34]
            default: out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
