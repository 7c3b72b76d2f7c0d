package dev.streamfoundry.flink;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Canary recognition, receipt key and body (the TypeScript contract's, byte for byte), and the receipts operator's checkpoint rule. */
class FreshnessCanaryTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /**
     * Expected values printed by platform/freshness/contract.ts (canaryId, receiptKey, receiptBody) for the same inputs
     * (`npx tsx` on the contract, 2026-12-04): the Java receipt must be what the reporter and `npm run verify` expect.
     */
    @Test
    void receiptKeyAndBodyAreTheTypeScriptContracts() {
        String[][] cases = {
            {"1764838800123", "1764838803623", "00000000-0000-4000-8000-019ae896fafb",
                "{\"source\":\"clickstream\",\"id\":\"00000000-0000-4000-8000-019ae896fafb\",\"publishedAt\":\"2025-12-04T09:00:00.123Z\",\"committedAt\":\"2025-12-04T09:00:03.623Z\",\"freshnessSeconds\":3.5}"},
            {"1764838800000", "1764838810000", "00000000-0000-4000-8000-019ae896fa80",
                "{\"source\":\"clickstream\",\"id\":\"00000000-0000-4000-8000-019ae896fa80\",\"publishedAt\":\"2025-12-04T09:00:00.000Z\",\"committedAt\":\"2025-12-04T09:00:10.000Z\",\"freshnessSeconds\":10}"},
            {"1764838800999", "1764838801000", "00000000-0000-4000-8000-019ae896fe67",
                "{\"source\":\"clickstream\",\"id\":\"00000000-0000-4000-8000-019ae896fe67\",\"publishedAt\":\"2025-12-04T09:00:00.999Z\",\"committedAt\":\"2025-12-04T09:00:01.000Z\",\"freshnessSeconds\":0.001}"},
            {"1764838800500", "1764838800500", "00000000-0000-4000-8000-019ae896fc74",
                "{\"source\":\"clickstream\",\"id\":\"00000000-0000-4000-8000-019ae896fc74\",\"publishedAt\":\"2025-12-04T09:00:00.500Z\",\"committedAt\":\"2025-12-04T09:00:00.500Z\",\"freshnessSeconds\":0}"},
            {"17592186044415", "17592198390093", "00000000-0000-4000-8000-0fffffffffff",
                "{\"source\":\"clickstream\",\"id\":\"00000000-0000-4000-8000-0fffffffffff\",\"publishedAt\":\"2527-06-23T06:20:44.415Z\",\"committedAt\":\"2527-06-23T09:46:30.093Z\",\"freshnessSeconds\":12345.678}"},
        };
        for (String[] c : cases) {
            long published = Long.parseLong(c[0]);
            long committed = Long.parseLong(c[1]);
            assertEquals(c[2], Canary.id(published));
            assertEquals(published, Canary.publishedAt(c[2]));
            Canary canary = new Canary("clickstream", c[2], published);
            assertEquals("_freshness/clickstream/" + c[2] + "/" + committed + ".json", canary.receiptKey(committed));
            assertEquals(c[3], new String(canary.receiptBody(committed), StandardCharsets.UTF_8));
        }
    }

    @Test
    void onlyThePrefixAndTwelveLowerCaseHexDigitsAreACanary() {
        assertEquals(0x019ae896fafbL, Canary.publishedAt("00000000-0000-4000-8000-019ae896fafb"));
        for (String notCanary : new String[] {"00000000-0000-4000-8000-019AE896FAFB", "00000000-0000-4000-8000-019ae896faf",
                "00000000-0000-4000-8000-019ae896fafb0", "10000000-0000-4000-8000-019ae896fafb", "0b7e4a52-8a1f-4c57-9a39-2f1d8e4c1a01",
                "00000000-0000-4000-8000-019ae896fafg", "", null}) {
            assertEquals(-1, Canary.publishedAt(notCanary), String.valueOf(notCanary));
        }
    }

    private static byte[] canaryEvent(long publishedAt, boolean bot) {
        String e = new String(LocalJob.event(Canary.id(publishedAt), Instant.ofEpochMilli(publishedAt), 0), StandardCharsets.UTF_8);
        return (bot ? e.replace("\"duration_ms\"", "\"is_bot\":true,\"duration_ms\"") : e).getBytes(StandardCharsets.UTF_8);
    }

    /** Recognised after the schema (a canary must be a valid event) and before the rules (no filter may drop it). */
    @Test
    void theParserRecognisesSchemaValidCanariesBeforeTheRules() throws Exception {
        SourceSchema schema = SourceSchema.load("clickstream");
        long t = 1764838800123L;
        EventParser.Result r = new EventParser(schema, null, null, null, "event_id", "clickstream").parse(canaryEvent(t, false));
        assertTrue(r.isCanary());
        assertFalse(r.ok());
        assertNull(r.reason);
        assertEquals(new Canary("clickstream", Canary.id(t), t), r.canary);

        // The receipt names the source as configured (a hyphen included), not the schema's name (web_clicks).
        assertEquals("web-clicks", new EventParser(schema, null, null, null, "event_id", "web-clicks").parse(canaryEvent(t, false)).canary.source);

        // Without an id field to look at, a canary is an ordinary event (the parser alone, as other tests use it).
        assertTrue(new EventParser(schema).parse(canaryEvent(t, false)).ok());

        // Not schema-valid: malformed like any other record, no receipt.
        byte[] invalid = new String(canaryEvent(t, false), StandardCharsets.UTF_8).replace("\"page_view\"", "\"scroll\"").getBytes(StandardCharsets.UTF_8);
        EventParser.Result bad = new EventParser(schema, null, null, null, "event_id", "clickstream").parse(invalid);
        assertFalse(bad.isCanary());
        assertTrue(bad.reason.startsWith("schema violation"), bad.reason);

        // The clickstream case's rules drop bots ("no-bots"): a bot-flagged canary is still a canary, not filtered.
        Processing rules = Processing.load(LocalJob.processingDocument(dir, "clickstream").toString());
        EventParser withRules = new EventParser(schema, rules, "k".getBytes(StandardCharsets.UTF_8), null, "event_id", "clickstream");
        byte[] botBusinessEvent = new String(canaryEvent(t, true), StandardCharsets.UTF_8).replace(Canary.id(t), LocalJob.newId()).getBytes(StandardCharsets.UTF_8);
        assertTrue(withRules.parse(botBusinessEvent).filtered(), "the rule does drop bots");
        assertTrue(withRules.parse(canaryEvent(t, true)).isCanary());
    }

    @Test
    void theReceiptsPathTakesTheErrorPathsSchemes() {
        Map<String, String> p = LocalJob.properties("k:9092", "t", dir, java.time.Duration.ofSeconds(1));
        assertTrue(JobConfig.of(p).freshnessReceiptsPath.isEmpty(), "optional");
        p.put(JobConfig.FRESHNESS_RECEIPTS_PATH, "s3a://warehouse-bucket");
        assertEquals("s3a://warehouse-bucket", JobConfig.of(p).freshnessReceiptsPath.orElseThrow());
        p.put(JobConfig.FRESHNESS_RECEIPTS_PATH, "s3://warehouse-bucket");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JobConfig.of(p));
        assertTrue(e.getMessage().contains("freshness.receipts.path: expected s3a://<bucket>"), e.getMessage());
    }

    private static OneInputStreamOperatorTestHarness<Canary, Void> harness(String root) throws Exception {
        return new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(new FreshnessReceipts(root)));
    }

    /** Receipt files under {@code root}, by key (relative path). */
    private static Map<String, String> receipts(Path root) throws Exception {
        Map<String, String> out = new HashMap<>();
        if (!Files.isDirectory(root)) return out;
        try (Stream<Path> s = Files.walk(root)) {
            for (Path f : s.filter(Files::isRegularFile).collect(Collectors.toList())) {
                out.put(root.relativize(f).toString().replace('\\', '/'), Files.readString(f));
            }
        }
        return out;
    }

    private static TreeSet<String> ids(Map<String, String> receipts) {
        return receipts.keySet().stream().map(k -> k.split("/")[2]).collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void aReceiptFollowsTheCompletionOfTheCheckpointThatCoveredItsCanary() throws Exception {
        Path root = dir.resolve("bucket");
        long t0 = System.currentTimeMillis() - 2000;
        Canary a = new Canary("clickstream", Canary.id(t0), t0);
        Canary b = new Canary("clickstream", Canary.id(t0 + 1), t0 + 1);
        try (var h = harness(root.toUri().toString() + "/")) {
            h.open();
            h.processElement(a, 0);
            h.notifyOfCompletedCheckpoint(0); // a checkpoint before a was seen does not cover it
            assertTrue(receipts(root).isEmpty());
            h.snapshot(1, 0);
            h.processElement(b, 0);            // after checkpoint 1's barrier: checkpoint 2's
            assertTrue(receipts(root).isEmpty(), "nothing before the checkpoint completes");
            long before = System.currentTimeMillis();
            h.notifyOfCompletedCheckpoint(1);
            long after = System.currentTimeMillis();
            Map<String, String> written = receipts(root);
            assertEquals(new TreeSet<>(List.of(a.id)), ids(written), "only the canary checkpoint 1 covered");
            String key = written.keySet().iterator().next();
            long committed = Long.parseLong(key.substring(key.lastIndexOf('/') + 1, key.length() - ".json".length()));
            assertTrue(committed >= before && committed <= after, "committedAt is the notification's time");
            assertEquals(a.receiptKey(committed), key);
            ObjectNode body = (ObjectNode) JSON.readTree(written.get(key));
            assertEquals((committed - t0) / 1000.0, body.get("freshnessSeconds").asDouble(), 1e-9);

            h.snapshot(2, 0);
            h.snapshot(3, 0);
            h.notifyOfCompletedCheckpoint(3); // 2's notification skipped: 3 covers what 2 held
            assertEquals(new TreeSet<>(List.of(a.id, b.id)), ids(receipts(root)));
            assertEquals(2, receipts(root).size(), "one receipt per canary");
        }
    }

    /** Pending canaries are operator state: a restore (from a checkpoint or savepoint) still writes their receipts. */
    @Test
    void pendingCanariesSurviveARestoreAndAreReceiptedAtTheNextCompletedCheckpoint() throws Exception {
        Path root = dir.resolve("restored");
        long t0 = System.currentTimeMillis();
        Canary a = new Canary("orders", Canary.id(t0), t0);
        OperatorSubtaskState snapshot;
        try (var h = harness(root.toString())) {
            h.open();
            h.processElement(a, 0);
            snapshot = h.snapshot(7, 0);
            // The job stops before checkpoint 7's notification.
        }
        assertTrue(receipts(root).isEmpty());
        try (var h = harness(root.toString())) {
            h.initializeState(snapshot);
            h.open();
            h.snapshot(8, 0);
            h.notifyOfCompletedCheckpoint(8);
            assertEquals(new TreeSet<>(List.of(a.id)), ids(receipts(root)));
            assertTrue(receipts(root).keySet().iterator().next().startsWith("_freshness/orders/"), receipts(root).toString());
        }
    }

    /** A receipt is a measurement: a write that fails is logged and counted, the job goes on; without a root, nothing is kept. */
    @Test
    void aFailedReceiptNeverFailsTheJobAndNoRootMeansNoReceipts() throws Exception {
        Path file = Files.writeString(dir.resolve("not-a-directory"), "x");
        long t0 = System.currentTimeMillis();
        try (var h = harness(file.toString())) {
            h.open();
            h.processElement(new Canary("orders", Canary.id(t0), t0), 0);
            h.snapshot(1, 0);
            h.notifyOfCompletedCheckpoint(1); // mkdirs under a regular file fails: logged, not thrown
            h.processElement(new Canary("orders", Canary.id(t0 + 1), t0 + 1), 0);
            h.snapshot(2, 0);
            h.notifyOfCompletedCheckpoint(2);
        }
        OperatorSubtaskState snapshot;
        try (var h = harness(null)) {
            h.open();
            h.processElement(new Canary("orders", Canary.id(t0), t0), 0);
            snapshot = h.snapshot(1, 0);
            h.notifyOfCompletedCheckpoint(1);
        }
        assertTrue(snapshot.getManagedOperatorState().stream().allMatch(s -> s.getStateNameToPartitionOffsets().values().stream()
                .allMatch(m -> m.getOffsets().length == 0)), "no canary kept without a root");
    }
}
