// The doctor's two outputs: stable JSON (docs/doctor.md) and a table for people.
extension DoctorReport {
    /// The JSON document, schema "alphacore-doctor/1" (docs/doctor.md). One line per check.
    public func json() -> String {
        var s = "{\n"
        s += "  \"schema\": \"alphacore-doctor/1\",\n"
        s += "  \"version\": \(JSON.string(String(describing: Version.string))),\n"
        s += "  \"root\": \(JSON.string(root)),\n"
        s += "  \"hot_cpus\": \(JSON.string(hotCPUs)),\n"
        s += "  \"hot_cpus_from\": \(JSON.string(hotCPUsFrom)),\n"
        s += "  \"probed\": \(probed),\n"
        s += "  \"elapsed_us\": \(elapsedMicroseconds),\n"
        s += "  \"cpu_us\": \(cpuMicroseconds),\n"
        s += "  \"summary\": {"
        s += DoctorSeverity.allCases.map { "\"\($0.name)\": \(count($0))" }.joined(separator: ", ")
        s += ", \"worst\": \(JSON.string(worst.name))},\n"
        s += "  \"checks\": [\n"
        s += checks.map { c in
            var line = "    {\"id\": \(JSON.string(c.id)), \"severity\": \(JSON.string(c.severity.name)), "
            line += "\"saw\": \(JSON.string(c.saw)), \"expected\": \(JSON.string(c.expected)), "
            line += "\"source\": \(JSON.string(c.source)), \"advice\": \(JSON.string(c.advice))"
            if !c.data.isEmpty {
                line += ", \"data\": {" + c.data.map { "\(JSON.string($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
            }
            return line + "}"
        }.joined(separator: ",\n")
        s += "\n  ]\n}\n"
        return s
    }

    /// A table for a terminal: severity, id, what was seen, and advice under each warn/fail/unknown.
    /// `colour` adds ANSI colours to the severity column; `width` wraps long text.
    public func table(colour: Bool, width: Int = 100, adviceFor: DoctorSeverity = .warn) -> String {
        let idWidth = min(28, checks.map(\.id.count).max() ?? 10)
        let textWidth = max(30, width - idWidth - 10)
        var s = "alphacore doctor: hot CPUs \(hotCPUs.isEmpty ? "none" : hotCPUs) (\(hotCPUsFrom))"
        if !root.isEmpty { s += ", root \(root)" }
        s += "\n"
        for c in checks {
            let tag = c.severity.name.uppercased()
            let padTag = tag + String(repeating: " ", count: max(0, 7 - tag.count))
            let shownTag = colour ? Self.ansi(c.severity) + padTag + "\u{1B}[0m" : padTag
            let lines = Self.wrap(c.saw, width: textWidth)
            let padId = c.id + String(repeating: " ", count: max(1, idWidth + 1 - c.id.count))
            s += "\(shownTag) \(padId)\(lines.first ?? "")\n"
            let indent = String(repeating: " ", count: 8 + idWidth + 1)
            for l in lines.dropFirst() { s += indent + l + "\n" }
            if c.severity >= adviceFor || c.severity == .unknown, !c.advice.isEmpty {
                for (i, l) in Self.wrap("-> " + c.advice, width: textWidth).enumerated() { s += indent + (i == 0 ? "" : "   ") + l + "\n" }
            }
        }
        s += "\(checks.count) checks: "
        s += DoctorSeverity.allCases.reversed().map { "\(count($0)) \($0.name)" }.joined(separator: ", ")
        s += " (\(elapsedMicroseconds) us, \(cpuMicroseconds) us CPU)\n"
        return s
    }

    static func ansi(_ s: DoctorSeverity) -> String {
        switch s {
        case .ok: "\u{1B}[32m"
        case .info: "\u{1B}[36m"
        case .unknown: "\u{1B}[35m"
        case .warn: "\u{1B}[33m"
        case .fail: "\u{1B}[1;31m"
        }
    }

    /// Splits text into lines of at most `width` characters at spaces.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(whereSeparator: DoctorHost.isBlank) {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += line.isEmpty ? String(word) : " " + word
        }
        if !line.isEmpty || lines.isEmpty { lines.append(line) }
        return lines
    }
}

/// Minimal JSON text output.
public enum JSON {
    /// A JSON string literal with the escapes RFC 8259 requires.
    public static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
