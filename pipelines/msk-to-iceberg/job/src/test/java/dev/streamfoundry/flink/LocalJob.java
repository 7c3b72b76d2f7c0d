package dev.streamfoundry.flink;

import org.apache.flink.api.common.JobID;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.hadoop.HadoopCatalog;
import org.apache.iceberg.io.CloseableIterable;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Runs the job on a Flink mini cluster (the real runtime, in-process) and reads what it wrote. */
final class LocalJob {
    private LocalJob() {
    }

    static Map<String, String> properties(String bootstrap, String topic, Path dir, Duration checkpointInterval) {
        Map<String, String> p = new HashMap<>();
        p.put(JobConfig.BOOTSTRAP_SERVERS, bootstrap);
        p.put(JobConfig.TOPIC, topic);
        p.put(JobConfig.AUTH, "none");
        p.put(JobConfig.SOURCE_SCHEMA, "clickstream");
        p.put(JobConfig.EVENT_TIME_FIELD, "occurred_at");
        p.put(JobConfig.CATALOG_TYPE, "hadoop");
        p.put(JobConfig.WAREHOUSE, dir.resolve("warehouse").toUri().toString());
        p.put(JobConfig.DATABASE, "analytics");
        p.put(JobConfig.TABLE, topic.replace('-', '_'));
        p.put(JobConfig.ERRORS_PATH, dir.resolve("errors").toUri().toString());
        p.put(JobConfig.CHECKPOINT_INTERVAL, checkpointInterval.toMillis() + " ms");
        p.put(JobConfig.CONSUMER_PREFIX + "fetch.max.wait.ms", "100");
        return p;
    }

    /**
     * The processing document synth would write for a shared rule case (test/rules/&lt;name&gt;.cases.json: its source schema's
     * id and event-time fields, rules, output and aggregate schemas), as a file in {@code dir}; for {@code source.processing}.
     */
    static Path processingDocument(Path dir, String caseName) throws IOException {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.JsonNode c = json.readTree(Files.readString(Path.of("../../../test/rules/" + caseName + ".cases.json")));
        com.fasterxml.jackson.databind.node.ObjectNode doc = json.createObjectNode();
        doc.put("source", caseName);
        for (String m : List.of("idField", "eventTimeField", "rules", "outputSchema", "aggregateSchema")) doc.set(m, c.get(m));
        Files.createDirectories(dir);
        Path out = dir.resolve(caseName + ".processing.json");
        Files.writeString(out, doc.toString());
        return out;
    }

    /** Starts the job; checkpoints are retained on cancel so a later run can restore from the last one. */
    static JobClient start(JobConfig cfg, Path checkpoints, String restoreFrom, int parallelism) throws Exception {
        return start(cfg, checkpoints, restoreFrom, parallelism, new org.apache.flink.configuration.Configuration());
    }

    /** As above, on top of {@code conf} (e.g. a metric reporter's settings). */
    static JobClient start(JobConfig cfg, Path checkpoints, String restoreFrom, int parallelism,
                           org.apache.flink.configuration.Configuration base) throws Exception {
        org.apache.flink.configuration.Configuration conf = new org.apache.flink.configuration.Configuration(base);
        conf.setString("state.checkpoints.dir", checkpoints.toUri().toString());
        conf.setString("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION");
        conf.setString("restart-strategy.type", "none"); // a failure fails the test at once instead of looping
        if (restoreFrom != null) conf.setString("execution.savepoint.path", restoreFrom);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism, conf);
        IcebergIngestJob.build(env, cfg);
        return env.executeAsync("test " + cfg.topic);
    }

    /** The newest completed checkpoint (chk-N with its _metadata) of a job. */
    static Optional<Path> latestCheckpoint(Path checkpoints, JobID job) throws IOException {
        Path dir = checkpoints.resolve(job.toHexString());
        if (!Files.isDirectory(dir)) return Optional.empty();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("chk-") && Files.exists(p.resolve("_metadata")))
                    .max(Comparator.comparingInt(p -> Integer.parseInt(p.getFileName().toString().substring(4))));
        }
    }

    static Optional<Path> latestCheckpointQuiet(Path checkpoints, JobClient job) {
        try {
            return latestCheckpoint(checkpoints, job.getJobID());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    static Table table(JobConfig cfg) {
        HadoopCatalog catalog = new HadoopCatalog(new Configuration(), cfg.warehouse);
        return catalog.loadTable(TableIdentifier.of(cfg.database, cfg.table));
    }

    static List<Record> rows(JobConfig cfg) {
        Table t = table(cfg);
        t.refresh();
        List<Record> out = new ArrayList<>();
        try (CloseableIterable<Record> it = IcebergGenerics.read(t).build()) {
            it.forEach(r -> out.add(r.copy()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** Rows committed so far, from the current snapshot's summary (cheap: no data files read). */
    static long committedCount(JobConfig cfg) {
        Table t = table(cfg);
        if (t.currentSnapshot() == null) return 0;
        return Long.parseLong(t.currentSnapshot().summary().getOrDefault("total-records", "0"));
    }

    static List<String> ids(JobConfig cfg) {
        return rows(cfg).stream().map(r -> (String) r.getField(cfg.idField)).collect(Collectors.toList());
    }

    /** Lines of the finished error files (in-progress files are hidden, '.'-prefixed, until a checkpoint completes). */
    static List<String> errorLines(JobConfig cfg) {
        Path root = Path.of(java.net.URI.create(cfg.errorsPath));
        if (!Files.isDirectory(root)) return List.of();
        try (Stream<Path> s = Files.walk(root)) {
            List<String> lines = new ArrayList<>();
            for (Path p : s.filter(Files::isRegularFile)
                    .filter(p -> p.getFileName().toString().startsWith("malformed") && p.getFileName().toString().endsWith(".jsonl"))
                    .collect(Collectors.toList())) {
                for (String l : Files.readAllLines(p, StandardCharsets.UTF_8)) if (!l.isBlank()) lines.add(l);
            }
            return lines;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void await(String what, JobClient job, Duration timeout, BooleanSupplier condition) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (job.getJobStatus().get().isGloballyTerminalState()) {
                job.getJobExecutionResult().get(); // throws the job's failure
                throw new AssertionError("The job ended while waiting for " + what);
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Timed out after " + timeout + " waiting for " + what + " (job " + job.getJobStatus().get() + ")");
            }
            Thread.sleep(200);
        }
    }

    /** A valid clickstream event as JSON bytes. */
    static byte[] event(String id, Instant at, int n) {
        String[] types = {"page_view", "click", "add_to_cart", "purchase", "search"};
        return ("{\"event_id\":\"" + id + "\",\"event_type\":\"" + types[n % types.length] + "\",\"occurred_at\":\"" + at
                + "\",\"user_id\":\"u-" + (n % 97) + "\",\"session_id\":\"s-" + (n % 13) + "\",\"page\":{\"url\":\"https://shop.example.com/p/"
                + n + "\"},\"duration_ms\":" + n + ",\"tags\":[\"t" + (n % 5) + "\"]}").getBytes(StandardCharsets.UTF_8);
    }

    static String newId() {
        return UUID.randomUUID().toString();
    }
}
