package dev.streamfoundry.flink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The freshness exit on the real engine: a Kafka broker in-process, the job on a Flink mini cluster with the delivery
 * topic and receipts on, business events mixed with canaries. The table and the delivery topic hold the business events
 * only; every canary gets a receipt once a checkpoint covering it completes, with the contract's key and body and a
 * plausible freshness; a restart from the last checkpoint keeps the operator (its uid) and goes on receipting.
 */
class FreshnessEndToEndTest {
    private static final Duration CHECKPOINT = Duration.ofSeconds(1);
    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static EmbeddedKafka kafka;

    @TempDir
    static Path dir;

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = EmbeddedKafka.start();
    }

    @AfterAll
    static void stopKafka() throws Exception {
        if (kafka != null) kafka.close();
    }

    /** Receipts under {@code root}: canary id -> the receipts' bodies (a key names source, id and commit time). */
    private static Map<String, List<JsonNode>> receipts(Path root) {
        Map<String, List<JsonNode>> out = new HashMap<>();
        Path base = root.resolve(Canary.RECEIPTS_PREFIX);
        if (!Files.isDirectory(base)) return out;
        try (Stream<Path> s = Files.walk(base)) {
            for (Path f : s.filter(Files::isRegularFile).collect(Collectors.toList())) {
                String key = root.relativize(f).toString().replace('\\', '/');
                JsonNode body = JSON.readTree(Files.readString(f));
                String[] parts = key.split("/");
                assertEquals(4, parts.length, key);
                assertEquals("clickstream", parts[1], key);
                assertEquals(parts[2], body.get("id").asText(), key);
                assertEquals(Long.parseLong(parts[3].replace(".json", "")), Instant.parse(body.get("committedAt").asText()).toEpochMilli(),
                        "the key's commit time is the body's: " + key);
                out.computeIfAbsent(parts[2], k -> new ArrayList<>()).add(body);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out;
    }

    private static long freshnessMs(JsonNode receipt) {
        return Instant.parse(receipt.get("committedAt").asText()).toEpochMilli() - Instant.parse(receipt.get("publishedAt").asText()).toEpochMilli();
    }

    /** The commit time of the first Iceberg snapshot that holds at least {@code rows} rows. */
    private static long firstSnapshotWith(JobConfig cfg, long rows) {
        Table t = LocalJob.table(cfg);
        long first = Long.MAX_VALUE;
        for (Snapshot s : t.snapshots()) {
            if (Long.parseLong(s.summary().getOrDefault("total-records", "0")) >= rows) first = Math.min(first, s.timestampMillis());
        }
        return first;
    }

    private static long sum(InMemoryReporter reporter, JobClient job, String metric) {
        return reporter.findMetrics(job.getJobID(), "." + metric).entrySet().stream()
                .filter(e -> e.getKey().endsWith("." + JobMetrics.GROUP + "." + metric))
                .mapToLong(e -> ((Counter) e.getValue()).getCount()).sum();
    }

    @Test
    void canariesStayOutOfTheDataAndEachGetsAReceiptAfterItsCheckpoint() throws Exception {
        String topic = "clicks-freshness";
        String delivery = "clicks-freshness.delivered";
        kafka.createTopic(topic, 2);
        kafka.createTopic(delivery, 2);
        Path receiptsRoot = dir.resolve("warehouse-bucket");
        Map<String, String> props = LocalJob.properties(kafka.bootstrapServers(), topic, dir.resolve("job"), CHECKPOINT);
        props.put(JobConfig.DELIVERY_TOPIC, delivery);
        // A bucket root URL, as the construct sets it (there: s3a://<warehouse bucket>).
        props.put(JobConfig.FRESHNESS_RECEIPTS_PATH, receiptsRoot.toUri().toString());
        JobConfig cfg = JobConfig.of(props);
        Path checkpoints = dir.resolve("checkpoints");
        Instant t0 = Instant.parse("2026-11-22T10:00:00Z");
        Set<String> business = new HashSet<>();
        Set<String> canaries = new HashSet<>();
        int[] n = {0};

        // Before the job starts: business events with a canary among them.
        List<byte[]> first = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            String id = LocalJob.newId();
            business.add(id);
            first.add(LocalJob.event(id, t0.plusSeconds(n[0]), n[0]++));
            if (i == 75) {
                long now = System.currentTimeMillis();
                canaries.add(Canary.id(now));
                first.add(LocalJob.event(Canary.id(now), Instant.ofEpochMilli(now), n[0]++));
            }
        }
        kafka.send(topic, first);

        InMemoryReporter reporter = InMemoryReporter.create();
        JobClient job = LocalJob.start(cfg, checkpoints, null, 2, reporter.addToConfiguration(new org.apache.flink.configuration.Configuration()));
        Map<String, Long> publishedLive = new HashMap<>();
        try {
            LocalJob.await("the first batch and its canary's receipt", job, TIMEOUT,
                    () -> LocalJob.committedCount(cfg) >= business.size() && receipts(receiptsRoot).keySet().containsAll(canaries));

            // While it runs: more events, each burst followed by a canary published now, on both partitions.
            for (int burst = 0; burst < 3; burst++) {
                List<byte[]> records = new ArrayList<>();
                for (int i = 0; i < 40; i++) {
                    String id = LocalJob.newId();
                    business.add(id);
                    records.add(LocalJob.event(id, t0.plusSeconds(n[0]), n[0]++));
                }
                long now = System.currentTimeMillis();
                String canary = Canary.id(now);
                canaries.add(canary);
                publishedLive.put(canary, now);
                records.add(LocalJob.event(canary, Instant.ofEpochMilli(now), n[0]++));
                kafka.send(topic, records);
                int rowsBefore = business.size();
                LocalJob.await("receipt of " + canary, job, TIMEOUT, () -> receipts(receiptsRoot).containsKey(canary));
                // The receipt does not come before the commit of what was read before its canary (same checkpoint or an
                // earlier one); the Iceberg committer commits on the same notification, within its commit time.
                long committedAt = Instant.parse(receipts(receiptsRoot).get(canary).get(0).get("committedAt").asText()).toEpochMilli();
                LocalJob.await("the rows before " + canary, job, TIMEOUT, () -> LocalJob.committedCount(cfg) >= rowsBefore);
                long dataCommit = firstSnapshotWith(cfg, rowsBefore);
                assertTrue(dataCommit <= committedAt + 2000, "rows before the canary committed at " + dataCommit + ", receipt says " + committedAt);
            }
            Thread.sleep(3 * CHECKPOINT.toMillis());
            // Canaries count as records read, not as valid business events.
            assertEquals(business.size(), sum(reporter, job, JobMetrics.EVENTS_IN), "eventsIn counts what publishers sent, canaries apart");
            assertEquals(business.size(), sum(reporter, job, JobMetrics.EVENTS_VALID));
            assertEquals(canaries.size(), sum(reporter, job, JobMetrics.CANARIES));
            assertEquals(0, sum(reporter, job, JobMetrics.FRESHNESS_RECEIPT_FAILURES));
        } finally {
            job.cancel().get();
        }
        String checkpoint = LocalJob.latestCheckpoint(checkpoints, job.getJobID())
                .orElseThrow(() -> new AssertionError("no retained checkpoint")).toUri().toString();

        Map<String, List<JsonNode>> written = receipts(receiptsRoot);
        assertEquals(canaries, written.keySet(), "a receipt for every canary, and for nothing else");
        for (Map.Entry<String, List<JsonNode>> e : written.entrySet()) {
            assertEquals(1, e.getValue().size(), "one receipt for " + e.getKey());
            JsonNode r = e.getValue().get(0);
            assertEquals("clickstream", r.get("source").asText());
            assertEquals(Canary.publishedAt(e.getKey()), Instant.parse(r.get("publishedAt").asText()).toEpochMilli());
            assertEquals(freshnessMs(r) / 1000.0, r.get("freshnessSeconds").asDouble(), 1e-9);
            assertTrue(freshnessMs(r) > 0, "committed after published: " + r);
        }
        for (String live : publishedLive.keySet()) {
            long ms = freshnessMs(written.get(live).get(0));
            // 1 s checkpoints: a canary published while the job runs is committed within a few checkpoints (generous
            // bound for a loaded 2-core machine; the bench measures the real figures).
            assertTrue(ms < 30_000, live + " took " + ms + " ms");
        }

        // Restart from the last checkpoint (same operators, same uids): the receipts operator goes on.
        List<byte[]> after = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            String id = LocalJob.newId();
            business.add(id);
            after.add(LocalJob.event(id, t0.plusSeconds(n[0]), n[0]++));
        }
        long now = System.currentTimeMillis();
        String last = Canary.id(now);
        canaries.add(last);
        after.add(LocalJob.event(last, Instant.ofEpochMilli(now), n[0]++));
        kafka.send(topic, after);
        JobClient second = LocalJob.start(cfg, checkpoints, checkpoint, 2);
        try {
            LocalJob.await("the events and the canary after the restart", second, TIMEOUT,
                    () -> LocalJob.committedCount(cfg) >= business.size() && receipts(receiptsRoot).containsKey(last));
            Thread.sleep(3 * CHECKPOINT.toMillis());
        } finally {
            second.cancel().get();
        }

        List<String> ids = LocalJob.ids(cfg);
        assertEquals(business, new HashSet<>(ids), "the table holds the business events, no canary");
        assertEquals(business.size(), ids.size(), "each once");
        assertEquals(canaries, receipts(receiptsRoot).keySet());
        List<ConsumerRecord<byte[], byte[]>> delivered = kafka.readAll(delivery);
        Set<String> deliveredIds = delivered.stream()
                .map(r -> new String(r.headers().lastHeader(DeliveryRecords.EVENT_ID_HEADER).value(), StandardCharsets.UTF_8))
                .collect(Collectors.toSet());
        assertEquals(business, deliveredIds, "the delivery topic carries no canary");
    }
}
