package dev.streamfoundry.flink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
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
import org.apache.iceberg.types.Types;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs the job on a Flink mini cluster (the real runtime, in-process) and reads what it wrote. */
final class LocalJob {
    private static final ObjectMapper JSON = new ObjectMapper();

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
        ObjectMapper json = new ObjectMapper();
        JsonNode c = json.readTree(Files.readString(Path.of("../../../test/rules/" + caseName + ".cases.json")));
        ObjectNode doc = json.createObjectNode();
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

    /** A table row as the delivery payload shows it: date-times as UTC instants, dates as YYYY-MM-DD, nulls omitted. */
    static ObjectNode json(Record r) {
        ObjectNode n = JSON.createObjectNode();
        for (Types.NestedField f : r.struct().fields()) {
            Object v = r.getField(f.name());
            if (v != null) n.set(f.name(), jsonValue(v));
        }
        return n;
    }

    private static JsonNode jsonValue(Object v) {
        if (v instanceof Record) return json((Record) v);
        if (v instanceof OffsetDateTime) return JSON.getNodeFactory().textNode(((OffsetDateTime) v).toInstant().toString());
        if (v instanceof LocalDate) return JSON.getNodeFactory().textNode(v.toString());
        if (v instanceof List) {
            ArrayNode a = JSON.createArrayNode();
            for (Object e : (List<?>) v) a.add(e == null ? JSON.getNodeFactory().nullNode() : jsonValue(e));
            return a;
        }
        if (v instanceof Map) {
            ObjectNode m = JSON.createObjectNode();
            ((Map<?, ?>) v).forEach((k, e) -> m.set(k.toString(), e == null ? JSON.getNodeFactory().nullNode() : jsonValue(e)));
            return m;
        }
        return JSON.valueToTree(v);
    }

    /**
     * What a customer reads from the delivery topic against the events table: every record's payload validates against
     * the table's JSON Schema and equals its table row, its key is the key column's value and its event-id header the
     * event id; the delivered ids are the table's ids (each once when {@code once}; at least once otherwise, every copy
     * the same). Returns the payloads by event id.
     */
    static Map<String, JsonNode> assertDeliveredAsTheTable(List<Record> rows,
            List<ConsumerRecord<byte[], byte[]>> delivered, String schemaJson,
            String idField, String keyField, boolean once) throws Exception {
        JsonSchema schema = DeliveryRecordsTest.validator(schemaJson);
        Map<String, Record> table = rows.stream().collect(Collectors.toMap(r -> String.valueOf(r.getField(idField)), r -> r));
        Map<String, JsonNode> byId = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : delivered) {
            JsonNode payload = DeliveryRecordsTest.checkedPayload(schema, r.value());
            Header h = r.headers().lastHeader(DeliveryRecords.EVENT_ID_HEADER);
            assertNotNull(h, "event-id header on " + payload);
            String id = new String(h.value(), StandardCharsets.UTF_8);
            assertEquals(payload.get(idField).asText(), id, "the header is the payload's id");
            JsonNode key = payload.get(keyField);
            assertEquals(key == null ? null : key.asText(),
                    r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8), "the key is " + keyField);
            Record row = table.get(id);
            assertNotNull(row, "delivered " + id + ", which is not in the table: " + payload);
            assertTrue(RuleCasesTest.jsonEquals(json(row), payload),
                    "payload equals the table row\n  row     " + json(row) + "\n  payload " + payload);
            JsonNode before = byId.put(id, payload);
            if (once) assertNull(before, "delivered twice: " + id);
            else if (before != null) assertEquals(before, payload, "a redelivery is the same record");
        }
        assertEquals(table.keySet(), byId.keySet(), "the delivered events are the table's");
        return byId;
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
