// The tuned comparison's two outputs: JSON (schema "alphacore-doctor-tuned/1", docs/doctor.md)
// and a table for people.
extension DoctorTunedReport {
    public func count(_ h: TunedHave) -> Int { rows.reduce(0) { $0 + ($1.have == h ? 1 : 0) } }

    public func json() -> String {
        var s = "{\n  \"schema\": \"alphacore-doctor-tuned/1\",\n"
        s += "  \"profile\": \(JSON.string(profile)),\n"
        s += "  \"sources\": [" + sources.map(JSON.string).joined(separator: ", ") + "],\n"
        s += "  \"hot_cpus\": \(JSON.string(hotCPUs)),\n"
        s += "  \"summary\": {" + [TunedHave.yes, .no, .unknown, .notRead].map { "\(JSON.string($0.rawValue)): \(count($0))" }.joined(separator: ", ") + "},\n"
        s += "  \"settings\": [\n"
        s += rows.map { r in
            var line = "    {\"name\": \(JSON.string(r.setting.name)), \"section\": \(JSON.string(r.setting.section)), "
            line += "\"key\": \(JSON.string(r.setting.key)), \"value\": \(JSON.string(r.setting.value)), "
            line += "\"profile\": \(JSON.string(r.setting.profile)), \"have\": \(JSON.string(r.have.rawValue)), "
            line += "\"host\": \(JSON.string(r.host)), \"check\": \(r.check.map(JSON.string) ?? "null"), "
            line += "\"check_severity\": \(r.checkSeverity.map { JSON.string($0.name) } ?? "null")}"
            return line
        }.joined(separator: ",\n")
        return s + "\n  ]\n}\n"
    }

    public func table(width: Int = 100) -> String {
        var s = "alphacore doctor --tuned \(profile): \(sources.joined(separator: " <- "))\n"
        s += "hot CPUs (tuned's isolated_cores) \(hotCPUs.isEmpty ? "none" : hotCPUs)\n"
        let keyWidth = min(44, rows.map { $0.setting.name.count + $0.setting.value.count + 1 }.max() ?? 20)
        for r in rows {
            let tag = r.have.rawValue.uppercased()
            let setting = r.setting.value.isEmpty ? r.setting.name : "\(r.setting.name)=\(r.setting.value)"
            let pad = String(repeating: " ", count: max(1, keyWidth + 1 - setting.count))
            let check = r.check.map { " [\($0): \(r.checkSeverity?.name ?? "not run")]" } ?? " [not checked]"
            let lines = DoctorReport.wrap(r.host + check, width: max(30, width - keyWidth - 10))
            s += tag + String(repeating: " ", count: max(1, 9 - tag.count)) + setting + pad + (lines.first ?? "") + "\n"
            for l in lines.dropFirst() { s += String(repeating: " ", count: 9 + keyWidth + 1) + l + "\n" }
        }
        s += "\(rows.count) settings: \(count(.yes)) present, \(count(.no)) missing, \(count(.unknown)) unknown, \(count(.notRead)) not read\n"
        return s
    }
}
