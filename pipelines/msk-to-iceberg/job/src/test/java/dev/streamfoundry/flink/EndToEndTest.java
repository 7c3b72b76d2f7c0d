package dev.streamfoundry.flink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.iceberg.flink.actions.Actions;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
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
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The job end to end on a Flink mini cluster: a real Kafka broker (in-process KRaft) -> the job -> an Iceberg table in a
 * local warehouse (Hadoop catalog; the Glue catalog is the same code with catalog.type=glue), read back.
 */
class EndToEndTest {
    private static final Duration CHECKPOINT = Duration.ofSeconds(1);
    // A passing run waits seconds, beside jest on 2 cores too; the bound only decides how long a broken one takes to fail.
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

    /** ... and the delivery topic (delivery.topic) carries exactly the table's events, each once, as its rows. */
    @Test
    void everyValidEventLandsExactlyOnceAndMalformedOnesGoToTheErrorPathWithTheirReason() throws Exception {
        String topic = "clicks-e2e";
        String delivery = "clicks-e2e.delivered";
        kafka.createTopic(topic, 2);
        kafka.createTopic(delivery, 2);
        Map<String, String> props = LocalJob.properties(kafka.bootstrapServers(), topic, dir.resolve("e2e"), CHECKPOINT);
        props.put(JobConfig.DELIVERY_TOPIC, delivery);
        JobConfig cfg = JobConfig.of(props);

        List<byte[]> records = new ArrayList<>();
        Set<String> expected = new HashSet<>();
        for (String line : Files.readAllLines(Path.of("../../../schemas/clickstream.samples.ndjson"))) {
            records.add(line.getBytes(StandardCharsets.UTF_8));
            expected.add(JSON.readTree(line).get("event_id").asText());
        }
        List<byte[]> generated = new ArrayList<>();
        Instant day0 = Instant.parse("2026-11-18T23:59:59.500Z");
        for (int i = 0; i < 300; i++) {
            String id = LocalJob.newId();
            expected.add(id);
            generated.add(LocalJob.event(id, day0.plusSeconds(i * 600L), i)); // spans three days
        }
        records.addAll(generated);
        for (int i = 0; i < 300; i += 5) records.add(generated.get(i)); // 60 redeliveries of the same events
        List<String> malformed = List.of("{\"event_id\":", "[1,2,3]", "",
                new String(LocalJob.event(LocalJob.newId(), day0, 1), StandardCharsets.UTF_8).replace("\"click\"", "\"scroll\""),
                new String(LocalJob.event(LocalJob.newId(), day0, 2), StandardCharsets.UTF_8).replace("\"user_id\":\"u-2\",", ""));
        for (String m : malformed) records.add(m.getBytes(StandardCharsets.UTF_8));
        records.add(new byte[] {(byte) 0xC3, (byte) 0x28, '{', '}'});
        int malformedCount = malformed.size() + 1;
        kafka.send(topic, records);

        JobClient job = LocalJob.start(cfg, dir.resolve("e2e-checkpoints"), null, 2);
        try {
            LocalJob.await("all events in the table and the error files", job, TIMEOUT,
                    () -> LocalJob.committedCount(cfg) >= expected.size() && LocalJob.errorLines(cfg).size() >= malformedCount);
            Thread.sleep(3 * CHECKPOINT.toMillis()); // more checkpoints: nothing more may arrive
        } finally {
            job.cancel().get();
        }

        List<String> ids = LocalJob.ids(cfg);
        assertEquals(expected.size(), ids.size(), "every valid event once: no duplicates");
        assertEquals(expected, new HashSet<>(ids), "no event lost");

        Table table = LocalJob.table(cfg);
        Set<LocalDate> days = new TreeSet<>();
        try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
            for (FileScanTask t : tasks) {
                DataFile f = t.file();
                days.add(LocalDate.ofEpochDay(f.partition().get(0, Integer.class)));
            }
        }
        assertEquals(Set.of(LocalDate.parse("2026-11-18"), LocalDate.parse("2026-11-19"), LocalDate.parse("2026-11-20"),
                LocalDate.parse("2026-11-21")), days, "files partitioned by event day");

        Record sample = LocalJob.rows(cfg).stream()
                .filter(r -> r.getField("event_id").equals("0b7e4a52-8a1f-4c57-9a39-2f1d8e4c1a01")).findFirst().orElseThrow();
        assertEquals(OffsetDateTime.parse("2026-11-20T09:15:02.120Z"), sample.getField("occurred_at"));
        assertEquals("https://shop.example.com/", ((Record) sample.getField("page")).getField("url"));
        assertEquals(5120L, sample.getField("duration_ms"));

        List<JsonNode> errors = new ArrayList<>();
        for (String l : LocalJob.errorLines(cfg)) errors.add(JSON.readTree(l));
        assertEquals(malformedCount, errors.size(), "each malformed record once in the error output");
        String reasons = errors.stream().map(e -> e.get("reason").asText()).sorted().collect(Collectors.joining("\n"));
        for (String word : List.of("not valid JSON", "not a JSON object", "empty record", "event_type", "user_id", "not UTF-8")) {
            assertTrue(reasons.contains(word), "a reason mentions '" + word + "':\n" + reasons);
        }
        assertTrue(errors.stream().anyMatch(e -> "{\"event_id\":".equals(e.path("raw").asText(null))), "raw record kept");
        assertTrue(errors.stream().anyMatch(e -> e.has("raw_base64")), "non-UTF-8 kept as base64");
        assertTrue(errors.stream().allMatch(e -> e.get("topic").asText().equals(topic) && e.has("offset")));

        // The delivery topic, read by a plain consumer from the earliest offset: the table's events, each once (no
        // malformed record, no redelivery), as their table rows, keyed by the event id.
        List<ConsumerRecord<byte[], byte[]>> delivered = kafka.readAll(delivery);
        Map<String, JsonNode> payloads = LocalJob.assertDeliveredAsTheTable(LocalJob.rows(cfg), delivered,
                SourceSchema.load("clickstream").json(), "event_id", "event_id", true);
        assertEquals(expected.size(), delivered.size());
        assertEquals(JSON.readTree("{\"event_id\":\"0b7e4a52-8a1f-4c57-9a39-2f1d8e4c1a01\",\"event_type\":\"page_view\","
                + "\"occurred_at\":\"2026-11-20T09:15:02.120Z\",\"user_id\":\"u-1001\",\"session_id\":\"s-9001\","
                + "\"page\":{\"url\":\"https://shop.example.com/\",\"title\":\"Home\"},\"device\":{\"os\":\"web\",\"screen_width\":1440},"
                + "\"duration_ms\":5120,\"is_bot\":false}"), payloads.get("0b7e4a52-8a1f-4c57-9a39-2f1d8e4c1a01"), "the README's example");
        assertEquals("2026-11-20T08:18:45.512Z", payloads.get("0b7e4a52-8a1f-4c57-9a39-2f1d8e4c1a05").get("occurred_at").asText(),
                "an offset date-time delivered in UTC");
        String today = LocalDate.now(ZoneOffset.UTC).toString();
        try (var files = Files.walk(Path.of(java.net.URI.create(cfg.errorsPath)))) {
            assertTrue(files.anyMatch(p -> p.toString().contains("dt=" + today)), "error files under dt=<day>/");
        }
    }

    /** ... in the table; the delivery topic, at least once, has every one of them too (a redelivery the same record). */
    @Test
    void restartFromTheLastCheckpointLosesNothingAndDuplicatesNothing() throws Exception {
        String topic = "clicks-restart";
        String delivery = "clicks-restart.delivered";
        kafka.createTopic(topic, 2);
        kafka.createTopic(delivery, 2);
        Map<String, String> p = LocalJob.properties(kafka.bootstrapServers(), topic, dir.resolve("restart"), CHECKPOINT);
        p.put(JobConfig.DELIVERY_TOPIC, delivery);
        JobConfig cfg = JobConfig.of(p);
        Path checkpoints = dir.resolve("restart-checkpoints");
        Set<String> expected = new HashSet<>();
        Instant t0 = Instant.parse("2026-11-20T12:00:00Z");

        List<byte[]> batchA = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            String id = LocalJob.newId();
            expected.add(id);
            batchA.add(LocalJob.event(id, t0.plusSeconds(i), i));
        }
        kafka.send(topic, batchA);

        JobClient first = LocalJob.start(cfg, checkpoints, null, 2);
        List<String> batchB = new ArrayList<>();
        for (int i = 0; i < 400; i++) batchB.add(LocalJob.newId());
        expected.addAll(batchB);
        CompletableFuture<Void> producing = null;
        int committedAtStop;
        try {
            LocalJob.await("batch A committed", first, TIMEOUT, () -> LocalJob.committedCount(cfg) >= batchA.size());
            // Keep producing (~8 s) while the first run goes on: the cancel below falls mid-stream, between checkpoints.
            producing = CompletableFuture.runAsync(() -> {
                try {
                    for (int i = 0; i < batchB.size(); i++) {
                        kafka.send(topic, List.of(LocalJob.event(batchB.get(i), t0.plusSeconds(1000 + i), i)));
                        if (i % 5 == 4) Thread.sleep(100);
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            LocalJob.await("batch B flowing into the table", first, TIMEOUT, () -> LocalJob.committedCount(cfg) > batchA.size());
        } finally {
            first.cancel().get(); // stop while records are in flight and uncommitted
            committedAtStop = (int) LocalJob.committedCount(cfg);
        }
        producing.get();
        String checkpoint = LocalJob.latestCheckpoint(checkpoints, first.getJobID())
                .orElseThrow(() -> new AssertionError("no retained checkpoint")).toUri().toString();
        assertTrue(committedAtStop < expected.size(), "stopped before everything was committed (" + committedAtStop + ")");

        // Between the runs: more new events, redeliveries of events already written, and one malformed record.
        List<byte[]> batchC = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            String id = LocalJob.newId();
            expected.add(id);
            batchC.add(LocalJob.event(id, t0.plusSeconds(5000 + i), i));
        }
        for (int i = 0; i < 50; i++) batchC.add(batchA.get(i));
        batchC.add("not json".getBytes(StandardCharsets.UTF_8));
        kafka.send(topic, batchC);

        JobClient second = LocalJob.start(cfg, checkpoints, checkpoint, 2);
        try {
            LocalJob.await("every event after the restart", second, TIMEOUT, () -> LocalJob.committedCount(cfg) >= expected.size()
                    && !LocalJob.errorLines(cfg).isEmpty());
            Thread.sleep(3 * CHECKPOINT.toMillis());
        } finally {
            second.cancel().get();
        }
        List<String> ids = LocalJob.ids(cfg);
        assertEquals(expected, new HashSet<>(ids), "no loss across the restart");
        assertEquals(expected.size(), ids.size(), "no duplicates across the restart (" + committedAtStop + " rows committed at the stop)");
        assertEquals(1, LocalJob.errorLines(cfg).size(), "the malformed record once");

        List<ConsumerRecord<byte[], byte[]>> delivered = kafka.readAll(delivery);
        LocalJob.assertDeliveredAsTheTable(LocalJob.rows(cfg), delivered, SourceSchema.load("clickstream").json(), "event_id", "event_id", false);
        assertTrue(delivered.size() >= expected.size(), delivered.size() + " records for " + expected.size() + " events");
    }

    /**
     * Finding 10: the application stopped (Managed Flink's stop takes a snapshot: a savepoint whose checkpoint commits
     * to Iceberg), then, during a stop longer than the retention period, Glue compacts the table (a commit without the
     * Flink sink's summary) and expires snapshots with the retention the construct deploys; then the application is
     * started from that snapshot. On restore the sink looks for its last committed checkpoint in the newest snapshot it
     * made (IcebergFilesCommitter.initializeState, SinkUtil.getMaxCommittedCheckpointId walks the current snapshot's
     * ancestors); if expiry removed it, it re-commits the savepoint's files from manifests it deleted after committing
     * them, and the start fails. The deployed retention must keep it: nothing lost, nothing twice.
     */
    @Test
    void aLongStopWithTheDeployedSnapshotExpiryThenARestoreFromTheApplicationSnapshotLosesAndDuplicatesNothing() throws Exception {
        String topic = "clicks-long-stop";
        kafka.createTopic(topic, 2);
        Path base = dir.resolve("long-stop");
        // No periodic checkpoint in the first run: everything it reads is committed by the stop's savepoint.
        JobConfig firstCfg = JobConfig.of(LocalJob.properties(kafka.bootstrapServers(), topic, base, Duration.ofHours(1)));
        JobConfig cfg = JobConfig.of(LocalJob.properties(kafka.bootstrapServers(), topic, base, CHECKPOINT));
        Set<String> expected = new HashSet<>();
        Instant t0 = Instant.parse("2026-11-21T08:00:00Z");
        List<byte[]> batchA = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            String id = LocalJob.newId();
            expected.add(id);
            batchA.add(LocalJob.event(id, t0.plusSeconds(i), i));
        }
        kafka.send(topic, batchA);

        InMemoryReporter reporter = InMemoryReporter.create();
        JobClient first = LocalJob.start(firstCfg, base.resolve("checkpoints"), null, 2, reporter.addToConfiguration(new org.apache.flink.configuration.Configuration()));
        String savepoint = null;
        try {
            LocalJob.await("batch A read", first, TIMEOUT, () -> reporter.findMetrics(first.getJobID(), "." + JobMetrics.EVENTS_IN).entrySet().stream()
                    .filter(e -> e.getKey().endsWith("." + JobMetrics.EVENTS_IN))
                    .mapToLong(e -> ((Counter) e.getValue()).getCount()).sum() >= batchA.size());
            savepoint = first.stopWithSavepoint(false, base.resolve("savepoints").toUri().toString(), SavepointFormatType.CANONICAL).get();
        } finally {
            // Once stopped with its savepoint the job has ended and its mini cluster shut down: nothing left to cancel.
            if (savepoint == null) first.cancel().get();
        }
        assertEquals(batchA.size(), LocalJob.committedCount(cfg), "the stop's savepoint committed batch A");

        // The long stop: Glue compacts (a commit of its own) and expires with the deployed retention, all snapshots
        // being older than its period by now.
        Table table = LocalJob.table(cfg);
        Actions.forTable(StreamExecutionEnvironment.createLocalEnvironment(1), table).rewriteDataFiles().execute();
        table.refresh();
        assertEquals("replace", table.currentSnapshot().operation(), "compaction committed on top of the job's last commit");
        JsonNode retention = JSON.readTree(Path.of("src/test/resources/deployed-snapshot-retention.json").toFile());
        table.expireSnapshots()
                .expireOlderThan(System.currentTimeMillis() + 1)
                .retainLast(retention.get("NumberOfSnapshotsToRetain").asInt())
                .cleanExpiredFiles(retention.get("CleanExpiredFiles").asBoolean())
                .commit();

        // Meanwhile: new events, and redeliveries of events written before the stop.
        List<byte[]> batchB = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            String id = LocalJob.newId();
            expected.add(id);
            batchB.add(LocalJob.event(id, t0.plusSeconds(1000 + i), i));
        }
        for (int i = 0; i < 20; i++) batchB.add(batchA.get(i));
        kafka.send(topic, batchB);

        JobClient second = LocalJob.start(cfg, base.resolve("checkpoints"), savepoint, 2);
        try {
            LocalJob.await("every event after the restore", second, TIMEOUT, () -> LocalJob.committedCount(cfg) >= expected.size());
            Thread.sleep(3 * CHECKPOINT.toMillis());
        } finally {
            second.cancel().get();
        }
        List<String> ids = LocalJob.ids(cfg);
        assertEquals(expected, new HashSet<>(ids), "no loss across the long stop");
        assertEquals(expected.size(), ids.size(), "no duplicates across the long stop");
    }
}
