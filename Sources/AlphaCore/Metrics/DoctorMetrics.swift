import Glibc

/// The doctor's report as Prometheus text, for node_exporter's textfile collector
/// (`alphacore doctor --prom FILE`): one gauge per check, written atomically.
public enum DoctorMetrics {
    /// alphacore_doctor_check{id,severity} 1 per check, the worst severity, and when it ran.
    public static func text(_ report: DoctorReport, now: Double = MetricsRegistry.realtimeSeconds()) -> String {
        var s = "# HELP alphacore_doctor_check A doctor check, labelled with its id and the severity it came out with.\n"
        s += "# TYPE alphacore_doctor_check gauge\n"
        for c in report.checks {
            let labels = MetricNames.render([(name: "id", value: c.id), (name: "severity", value: c.severity.name)])
            s += "alphacore_doctor_check{\(labels)} 1\n"
        }
        s += "# HELP alphacore_doctor_worst_severity The gravest severity: 0 ok, 1 info, 2 unknown, 3 warn, 4 fail.\n"
        s += "# TYPE alphacore_doctor_worst_severity gauge\n"
        s += "alphacore_doctor_worst_severity \(report.worst.rawValue)\n"
        s += "# HELP alphacore_doctor_last_run_timestamp_seconds When the doctor wrote this file.\n"
        s += "# TYPE alphacore_doctor_last_run_timestamp_seconds gauge\n"
        s += "alphacore_doctor_last_run_timestamp_seconds \(Number.text(now.rounded()))\n"
        return s
    }

    /// Writes `text` to `path` through a temporary file in the same folder and rename(2), so a
    /// collector never reads half a file. The temporary is removed on failure.
    public static func writeAtomically(_ text: String, to path: String) throws(Errno) {
        let tmp = path + ".tmp.\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw Errno.fromErrno("cannot create \(tmp)") }
        do throws(Errno) {
            try SystemCall.writeAll(fd, text)
        } catch {
            close(fd); unlink(tmp)
            throw Errno.fail(error, "cannot write \(tmp)")
        }
        if fsync(fd) != 0 || close(fd) != 0 {
            let err = Errno.fromErrno("cannot flush \(tmp)")
            unlink(tmp)
            throw err
        }
        if rename(tmp, path) != 0 {
            let err = Errno.fromErrno("cannot rename \(tmp) to \(path)")
            unlink(tmp)
            throw err
        }
    }
}
