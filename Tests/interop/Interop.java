// Interop matrix, Java side (issue 13): libalphacore's encodings (V2, and the V0/V1 forms built
// by interop_hdr_c, compressed and not) and interval log decoded by Java HdrHistogram (Debian's
// libhdrhistogram-java), compared with the .expect files; then Java's own encodings and log
// written back for interop_hdr_c to decode. Run as a single-file program:
//     java -cp /usr/share/java/hdrhistogram.jar Interop.java DIR
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.zip.Deflater;
import org.HdrHistogram.AbstractHistogram;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogReader;
import org.HdrHistogram.HistogramLogWriter;

public class Interop {
    static final List<String> failed = new ArrayList<>();
    static String dir;

    static List<String> lines(String name) throws Exception { return Files.readAllLines(Paths.get(dir, name)); }

    static int definitional = 0;

    // Percentiles: Java's getValueAtPercentile rounds the target count up (ceil) where
    // HdrHistogram_c, hdrh and libalphacore round it to the nearest, so a percentile is compared
    // with Java's own answer for the expected counts (a histogram built from the .expect slots).
    static boolean same(String what, AbstractHistogram h, String name) throws Exception {
        List<String> problems = new ArrayList<>();
        long total = 0, sum = 0;
        Histogram ref = null;
        for (String line : lines(name + ".expect")) {
            String[] f = line.trim().split(" ");
            if (f[0].equals("config")) ref = new Histogram(Long.parseLong(f[1]), Long.parseLong(f[2]), Integer.parseInt(f[3]));
            if (f[0].equals("slot") && ref != null) ref.recordValueWithCount(Long.parseLong(f[1]), Long.parseLong(f[2]));
        }
        for (String line : lines(name + ".expect")) {
            String[] f = line.trim().split(" ");
            switch (f[0]) {
                case "total": total = Long.parseLong(f[1]);
                    if (h.getTotalCount() != total) problems.add("total " + h.getTotalCount() + " != " + total); break;
                case "min": if (total > 0 && h.getMinValue() != Long.parseLong(f[1])) problems.add("min " + h.getMinValue() + " != " + f[1]); break;
                case "max": if (total > 0 && h.getMaxValue() != Long.parseLong(f[1])) problems.add("max " + h.getMaxValue() + " != " + f[1]); break;
                case "pct": {
                    double p = Double.parseDouble(f[1]);
                    long want = ref.getValueAtPercentile(p);
                    if (want != Long.parseLong(f[2])) definitional++;
                    if (total > 0 && h.getValueAtPercentile(p) != want)
                        problems.add("p" + p + " " + h.getValueAtPercentile(p) + " != " + want);
                    break;
                }
                case "slot": {
                    long v = Long.parseLong(f[1]), c = Long.parseLong(f[2]);
                    sum += c;
                    if (h.getCountAtValue(v) != c) problems.add("count at " + v + ": " + h.getCountAtValue(v) + " != " + c);
                    break;
                }
                default: break;
            }
        }
        if (sum != h.getTotalCount()) problems.add("counts outside the expected slots");
        if (!problems.isEmpty()) failed.add(what + ": " + String.join("; ", problems.subList(0, Math.min(3, problems.size()))));
        return problems.isEmpty();
    }

    static String read(Path p) throws Exception { return new String(Files.readAllBytes(p)).trim(); }

    public static void main(String[] args) throws Exception {
        dir = args[0];
        List<String> cases = new ArrayList<>();
        for (String c : lines("cases.txt")) if (!c.isBlank()) cases.add(c.trim());
        List<String> identical = new ArrayList<>();
        List<Histogram> decoded = new ArrayList<>();
        for (String name : cases) {
            String ours = read(Paths.get(dir, name + ".b64"));
            Histogram h = Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(ours)), 0);
            same("Java decode " + name, h, name);
            ByteBuffer out = ByteBuffer.allocate(h.getNeededByteBufferCapacity() + 64);
            int n = h.encodeIntoCompressedByteBuffer(out, Deflater.DEFAULT_COMPRESSION);
            String theirs = Base64.getEncoder().encodeToString(Arrays.copyOf(out.array(), n));
            if (theirs.equals(ours)) identical.add(name);
            Files.write(Paths.get(dir, name + ".java.b64"), theirs.getBytes());
            decoded.add(h);
        }
        // V0 and V1 (jHiccup 2.0.1 and 2.0.6), compressed and the uncompressed payloads.
        int old = 0;
        try (var files = Files.list(Paths.get(dir))) {
            for (Path p : (Iterable<Path>) files.sorted()::iterator) {
                String f = p.getFileName().toString();
                if (!f.endsWith(".old.b64")) continue;
                // Java 2.1.11 sizes a V0 payload as 9 bytes a slot: it reads V0 only as Java
                // wrote it (jHiccup 2.0.1), compressed with 8-byte words over every slot.
                if (f.contains("_v0_") && !(f.contains("_w8") && !f.contains("_raw"))) continue;
                String name = f.substring(0, f.indexOf("_v"));
                byte[] bytes = Base64.getDecoder().decode(read(p));
                try {
                    Histogram h = f.contains("_raw")
                        ? Histogram.decodeFromByteBuffer(ByteBuffer.wrap(bytes), 0)
                        : Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(bytes), 0);
                    same("Java decode " + f, h, name);
                } catch (Exception e) {
                    failed.add("Java decode " + f + ": " + e);
                }
                old++;
            }
        }
        // Our log: a comment line in the middle, tags, a base time, an idle interval.
        HistogramLogReader reader = new HistogramLogReader(Paths.get(dir, "ours_comments.hlog").toString());
        int n = 0;
        for (Object e; (e = reader.nextIntervalHistogram()) != null; n++) {
            same("Java log interval " + n, (AbstractHistogram) e, n == 1 ? "empty" : cases.get(n));
        }
        if (n != cases.size()) failed.add("Java read " + n + " intervals of " + cases.size() + " from our log");
        try (PrintStream ps = new PrintStream(Paths.get(dir, "java.hlog").toFile())) {
            HistogramLogWriter w = new HistogramLogWriter(ps);
            w.outputLogFormatVersion();
            w.outputStartTime(1700000000000L);
            w.outputLegend();
            for (int i = 0; i < decoded.size(); i++) {
                Histogram h = decoded.get(i);
                h.setStartTimeStamp(1700000000000L + i * 1000L);
                h.setEndTimeStamp(1700000001000L + i * 1000L);
                w.outputIntervalHistogram(h);
            }
        }
        System.out.println("Java HdrHistogram: " + cases.size() + " V2 encodings, " + old + " V0/V1 encodings and " + n
            + " log intervals of libalphacore decoded; Java's own encoding byte-identical to ours for "
            + identical.size() + " of " + cases.size() + ": " + String.join(" ", identical)
            + "; percentiles where Java's definition differs from HdrHistogram_c's: " + definitional);
        for (String f : failed) System.err.println("FAILED: " + f);
        System.exit(failed.isEmpty() ? 0 : 1);
    }
}
