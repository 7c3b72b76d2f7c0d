package dev.streamfoundry.flink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.hadoop.HadoopCatalog;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The job with processing rules end to end: a real broker -> the job on a mini cluster with the clickstream case's
 * processing document (test/rules/clickstream.cases.json, as synth would write it) -> the events table in the output
 * schema (masked, renamed, dropped, cast and derived columns), filtered events absent and counted, a rule error in the
 * error files with the rule's reason, and the aggregates table with the windows' rows once the watermark passes them;
 * the delivery topic, keyed by the (hashed) user id, with exactly the table's events as the case's expected rows.
 * The hash key comes from STREAM_FOUNDRY_HASH_KEY (set by the pom for tests, the case's key).
 */
class RulesEndToEndTest {
    private static final Duration CHECKPOINT = Duration.ofSeconds(1);
    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void transformedRowsFilteredEventsRuleErrorsAndAggregates() throws Exception {
        JsonNode c = JSON.readTree(Files.readString(Path.of("../../../test/rules/clickstream.cases.json")));
        assertEquals(c.get("hashKey").asText(), System.getenv(HashKey.ENV), "the pom sets the case's hash key for tests");
        Path processing = LocalJob.processingDocument(dir, "clickstream");

        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            String topic = "clicks-rules";
            String delivery = "clicks-rules-delivered";
            kafka.createTopic(topic, 2);
            kafka.createTopic(delivery, 2);
            Map<String, String> p = LocalJob.properties(kafka.bootstrapServers(), topic, dir, CHECKPOINT);
            p.put(JobConfig.PROCESSING, processing.toString());
            p.put(JobConfig.DELIVERY_TOPIC, delivery);
            p.put(JobConfig.DELIVERY_KEY_FIELD, "user_id");
            JobConfig cfg = JobConfig.of(p);

            List<byte[]> events = new ArrayList<>();
            for (JsonNode e : c.get("events")) events.add(e.toString().getBytes(StandardCharsets.UTF_8));
            kafka.send(topic, events);

            InMemoryReporter reporter = InMemoryReporter.create();
            long filtered;
            JobClient job = LocalJob.start(cfg, dir.resolve("checkpoints"), null, 2, reporter.addToConfiguration(new org.apache.flink.configuration.Configuration()));
            try {
                // Kept: 1, 2, 5, 8, 9 (10 repeats 1); filtered: 3, 4; rule error: 7; schema violation: 6 (is_bot "no").
                LocalJob.await("the kept events in the table and both errors", job, TIMEOUT,
                        () -> LocalJob.committedCount(cfg) >= 5 && LocalJob.errorLines(cfg).size() >= 2);
                // Then events 14 minutes later, on every subtask (20 ids): the watermark passes the case's windows.
                List<byte[]> later = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    later.add(("{\"event_id\":\"00000000-0000-4000-9000-0000000000" + (10 + i) + "\",\"event_type\":\"click\","
                            + "\"occurred_at\":\"2026-11-20T09:30:00Z\",\"user_id\":\"u-9\",\"session_id\":\"s-9\",\"page\":{\"url\":\"https://shop.example.com/\"}}").getBytes(StandardCharsets.UTF_8));
                }
                kafka.send(topic, later);
                LocalJob.await("the later events in the table", job, TIMEOUT, () -> LocalJob.committedCount(cfg) >= 25);
                LocalJob.await("the case's windows in the aggregates table", job, TIMEOUT, () -> committed(cfg, cfg.aggregatesTable) >= 4);
                Thread.sleep(3 * CHECKPOINT.toMillis()); // more checkpoints: nothing more may arrive
                filtered = reporter.findMetrics(job.getJobID(), "." + JobMetrics.EVENTS_FILTERED).entrySet().stream()
                        .filter(e -> e.getKey().endsWith("." + JobMetrics.EVENTS_FILTERED))
                        .mapToLong(e -> ((Counter) e.getValue()).getCount()).sum();
            } finally {
                job.cancel().get();
            }

            // The events table: the output schema's columns, the transformed values.
            Table events0 = table(cfg, cfg.table);
            Schema schema = events0.schema();
            assertEquals(null, schema.findField("tags"), "dropped column");
            assertEquals(null, schema.findField("duration_ms"), "renamed column");
            assertEquals(Types.LongType.get(), schema.findField("dwell_ms").type());
            assertEquals(Types.StringType.get(), schema.findField("device.screen_width").type(), "cast integer -> string");
            assertEquals(Types.BooleanType.get(), schema.findField("is_purchase").type());
            List<Record> rows = rows(cfg, cfg.table);
            assertEquals(25, rows.size(), "5 kept case events (a duplicate dropped) + 20 later ones");
            Map<String, Record> byId = rows.stream().collect(Collectors.toMap(r -> (String) r.getField("event_id"), r -> r));
            JsonNode results = c.get("expected").get("results");
            for (int i = 0; i < results.size(); i++) {
                String id = c.get("events").get(i).get("event_id").asText();
                if (!results.get(i).has("row")) {
                    if (i != 9) assertFalse(byId.containsKey(id), "event " + i + " not in the table: " + results.get(i));
                    continue;
                }
                JsonNode want = results.get(i).get("row");
                Record got = byId.get(id);
                assertNotNull(got, "event " + i);
                assertEquals(OffsetDateTime.parse(want.get("occurred_at").asText()), got.getField("occurred_at"));
                for (String col : List.of("event_type", "user_id", "session_id", "page_key")) assertEquals(want.get(col).asText(), got.getField(col), col);
                assertEquals(want.get("is_purchase").asBoolean(), got.getField("is_purchase"));
                assertEquals(want.has("dwell_ms") ? want.get("dwell_ms").asLong() : null, got.getField("dwell_ms"));
                Record device = (Record) got.getField("device");
                assertEquals(want.path("device").path("screen_width").asText(null), device == null ? null : device.getField("screen_width"));
            }

            // The delivery topic: the table's 25 events once each, as their rows, valid against the output schema, keyed
            // by the masked user id; the case's kept events exactly as its expected rows; nothing filtered or in error.
            List<ConsumerRecord<byte[], byte[]>> delivered = kafka.readAll(delivery);
            Map<String, JsonNode> payloads = LocalJob.assertDeliveredAsTheTable(rows, delivered, c.get("outputSchema").toString(),
                    "event_id", "user_id", true);
            assertEquals(25, delivered.size());
            for (int i = 0; i < results.size(); i++) {
                JsonNode in = c.get("events").get(i);
                String id = in.get("event_id").asText();
                if (!results.get(i).has("row")) {
                    if (i != 9) assertFalse(payloads.containsKey(id), "event " + i + " not delivered: " + results.get(i));
                    continue;
                }
                JsonNode want = results.get(i).get("row");
                JsonNode got = payloads.get(id);
                assertTrue(RuleCasesTest.jsonEquals(want, got), "event " + i + "\n  expected " + want + "\n  delivered " + got);
                assertTrue(!got.get("user_id").asText().equals(in.get("user_id").asText()) && got.get("session_id").asText().startsWith("**"),
                        "masked: " + got);
                assertFalse(got.has("tags") || got.has("duration_ms"), "dropped and renamed: " + got);
            }
            for (ConsumerRecord<byte[], byte[]> r : delivered) {
                assertEquals(JSON.readTree(r.value()).get("user_id").asText(), new String(r.key(), StandardCharsets.UTF_8), "keyed by the masked user id");
            }

            // Errors: the rule's reason; the schema violation as before.
            List<JsonNode> errors = new ArrayList<>();
            for (String l : LocalJob.errorLines(cfg)) errors.add(JSON.readTree(l));
            List<String> reasons = errors.stream().map(e -> e.get("reason").asText()).sorted().collect(Collectors.toList());
            assertEquals(2, reasons.size(), reasons.toString());
            assertEquals(results.get(6).get("error").asText(), reasons.get(0));
            assertTrue(reasons.get(1).startsWith("schema violation: ") && reasons.get(1).contains("is_bot"), reasons.get(1));

            // Filtered: counted (read while the job ran), not errors.
            assertEquals(2, filtered, "events 3 and 4 filtered");

            // The aggregates table: exactly the case's windows (the later events' window is not final yet).
            ArrayNode got = JSON.createArrayNode();
            rows(cfg, cfg.aggregatesTable).stream()
                    .sorted(Comparator.comparing((Record r) -> (OffsetDateTime) r.getField("window_start")).thenComparing(r -> String.valueOf(r.getField("event_type"))))
                    .forEach(r -> {
                        ObjectNode n = JSON.createObjectNode();
                        for (Types.NestedField f : r.struct().fields()) {
                            Object v = r.getField(f.name());
                            if (v instanceof OffsetDateTime) n.put(f.name(), ((OffsetDateTime) v).toInstant().toString());
                            else n.putPOJO(f.name(), v);
                        }
                        got.add(JSON.valueToTree(n));
                    });
            JsonNode want = c.get("expected").get("aggregates");
            assertTrue(RuleCasesTest.jsonEquals(want, got), "aggregates\n  expected " + want + "\n  got      " + got);
        }
    }

    private static Table table(JobConfig cfg, String name) {
        return new HadoopCatalog(new Configuration(), cfg.warehouse).loadTable(TableIdentifier.of(cfg.database, name));
    }

    private static long committed(JobConfig cfg, String name) {
        Table t = table(cfg, name);
        return t.currentSnapshot() == null ? 0 : Long.parseLong(t.currentSnapshot().summary().getOrDefault("total-records", "0"));
    }

    private static List<Record> rows(JobConfig cfg, String name) throws Exception {
        List<Record> out = new ArrayList<>();
        try (CloseableIterable<Record> it = IcebergGenerics.read(table(cfg, name)).build()) {
            it.forEach(r -> out.add(r.copy()));
        }
        return out;
    }
}
