package dev.streamfoundry.flink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Meter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.iceberg.flink.FlinkSchemaUtil;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the construct reads from stream-foundry-contract.json is what the job does. */
class JobContractTest {
    private static JsonNode contract() throws Exception {
        try (InputStream in = JobContractTest.class.getResourceAsStream(JobContract.RESOURCE)) {
            return new ObjectMapper().readTree(in);
        }
    }

    /** Every property the contract names is one the job reads, and the job reads no other (the constants come from the file). */
    @Test
    void constantsAreTheContract() throws Exception {
        JsonNode c = contract();
        assertEquals(JobConfig.PROPERTY_GROUP, c.get("propertyGroup").asText());
        assertEquals(JobConfig.ERRORS_SCHEME, c.get("errorsPathScheme").asText());
        assertEquals(JobMetrics.GROUP, c.get("metricGroup").asText());
        Set<String> properties = new TreeSet<>();
        c.get("properties").fields().forEachRemaining(e -> properties.add(e.getValue().asText()));
        assertEquals(new TreeSet<>(JobConfig.ALL_KEYS), properties);
        Set<String> names = new TreeSet<>();
        c.get("metrics").fields().forEachRemaining(e -> names.add(e.getValue().asText()));
        assertEquals(new TreeSet<>(List.of(JobMetrics.EVENTS_IN, JobMetrics.EVENTS_IN_PER_SECOND, JobMetrics.EVENTS_VALID,
                JobMetrics.EVENTS_MALFORMED, JobMetrics.EVENTS_MALFORMED_PER_SECOND, JobMetrics.DUPLICATES_DROPPED,
                JobMetrics.EVENTS_FILTERED, JobMetrics.EVENTS_LATE, JobMetrics.CANARIES, JobMetrics.FRESHNESS_RECEIPT_FAILURES)), names);
        assertEquals(Canary.ID_PREFIX, c.get("canary").get("idPrefix").asText());
        assertEquals(Canary.RECEIPTS_PREFIX, c.get("canary").get("receiptsPrefix").asText());
    }

    @Test
    void aMissingNameFailsWithItsPath() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> JobContract.property("renamed"));
        assertTrue(e.getMessage().contains("properties.renamed"), e.getMessage());
    }

    /**
     * On a mini cluster, the parse, deduplicate and freshness receipts operators register every contract metric under the
     * "kinesisanalytics" group (Managed Flink sends only that group's metrics to CloudWatch), and count what they saw.
     */
    @Test
    void metricsAreRegisteredUnderTheKinesisAnalyticsGroup() throws Exception {
        InMemoryReporter reporter = InMemoryReporter.createWithRetainedMetrics();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, reporter.addToConfiguration(new Configuration()));
        SourceSchema schema = SourceSchema.load("clickstream");
        InternalTypeInfo<org.apache.flink.table.data.RowData> rows = InternalTypeInfo.of(FlinkSchemaUtil.convert(schema.iceberg()));
        List<RawRecord> records = new ArrayList<>();
        String valid = Files.readAllLines(Path.of("../../../schemas/clickstream.samples.ndjson")).get(0);
        records.add(new RawRecord("clickstream", 0, 0, 0, valid.getBytes(StandardCharsets.UTF_8)));
        records.add(new RawRecord("clickstream", 0, 1, 0, valid.getBytes(StandardCharsets.UTF_8))); // a duplicate
        records.add(new RawRecord("clickstream", 0, 2, 0, "{oops".getBytes(StandardCharsets.UTF_8)));
        records.add(new RawRecord("clickstream", 0, 3, 0, LocalJob.event(Canary.id(1764838800123L), java.time.Instant.ofEpochMilli(1764838800123L), 0)));
        int idPos = schema.idPosition("event_id");
        var parsed = env.fromData(records)
                .process(new ParseEvents(schema, null, null, null, "event_id", "clickstream"), rows);
        parsed.getSideOutput(ParseEvents.CANARIES).process(new FreshnessReceipts(null), org.apache.flink.api.common.typeinfo.Types.VOID);
        var unique = parsed
                .keyBy(new DeduplicateById.IdKey(idPos, true))
                .process(new DeduplicateById(java.time.Duration.ofHours(1)), rows);
        unique.sinkTo(new DiscardingSink<>());
        // The aggregation's late-event counter (registered when the rules aggregate).
        JsonNode aggregate = new ObjectMapper().readTree("{\"windowSeconds\":60,\"groupBy\":[\"event_type\"],\"measures\":{\"n\":{\"count\":\"*\"}}}");
        SourceSchema aggregates = SourceSchema.fromJson("agg", "{\"type\":\"object\",\"required\":[\"window_start\",\"window_end\",\"n\"],"
                + "\"properties\":{\"window_start\":{\"type\":\"string\",\"format\":\"date-time\"},\"window_end\":{\"type\":\"string\",\"format\":\"date-time\"},"
                + "\"event_type\":{\"type\":[\"string\",\"null\"]},\"n\":{\"type\":\"integer\"}}}");
        WindowAggregates.attach(unique, aggregate, schema.iceberg(), "occurred_at", aggregates.iceberg()).sinkTo(new DiscardingSink<>());
        JobExecutionResult result = env.execute("metrics");

        Map<String, Metric> ours = reporter.findMetrics(result.getJobID(), "." + JobMetrics.GROUP + ".");
        Set<String> registered = new TreeSet<>();
        ours.keySet().forEach(id -> registered.add(id.substring(id.lastIndexOf('.') + 1)));
        contract().get("metrics").fields().forEachRemaining(e ->
                assertTrue(registered.contains(e.getValue().asText()), e.getValue().asText() + " not under " + JobMetrics.GROUP + ": " + ours.keySet()));
        assertEquals(3, count(ours, JobMetrics.EVENTS_IN), "what publishers sent: the canary is counted apart");
        assertEquals(1, count(ours, JobMetrics.CANARIES));
        assertEquals(2, count(ours, JobMetrics.EVENTS_VALID), "a canary is read, not a valid business event");
        assertEquals(1, count(ours, JobMetrics.EVENTS_MALFORMED));
        assertEquals(1, count(ours, JobMetrics.DUPLICATES_DROPPED));
        assertTrue(ours.entrySet().stream().anyMatch(e -> e.getKey().endsWith("." + JobMetrics.EVENTS_IN_PER_SECOND) && e.getValue() instanceof Meter));
    }

    private static long count(Map<String, Metric> metrics, String name) {
        return metrics.entrySet().stream()
                .filter(e -> e.getKey().endsWith("." + name))
                .mapToLong(e -> ((Counter) e.getValue()).getCount())
                .sum();
    }
}
