package dev.streamfoundry.flink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.flink.util.CloseableIterator;
import org.apache.iceberg.Schema;
import org.apache.iceberg.flink.FlinkSchemaUtil;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The shared processing-rule cases (test/rules/*.cases.json of the repository, format in its README) on this engine:
 * every event's result through {@link RuleEngine}, and the aggregates through the job's own window code
 * ({@link WindowAggregates} after {@link DeduplicateById}) on a Flink mini cluster, whose bounded source ends with a
 * final watermark so every window closes. The Spark job's pytest suite runs the same files.
 */
class RuleCasesTest {
    private static final Path CASES = Path.of("../../../test/rules");
    private static final Path SCHEMAS = Path.of("../../../schemas");
    private static final ObjectMapper JSON = new ObjectMapper();

    static List<Path> caseFiles() throws IOException {
        try (Stream<Path> s = Files.list(CASES)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".cases.json")).sorted().collect(Collectors.toList());
        }
    }

    static JsonNode read(Path p) throws IOException {
        return JSON.readTree(Files.readString(p, StandardCharsets.UTF_8));
    }

    static JsonNode schemaOf(JsonNode c) throws IOException {
        JsonNode s = c.get("schema");
        return s.isTextual() ? read(SCHEMAS.resolve(s.asText())) : s;
    }

    static RuleEngine engine(JsonNode c) throws IOException {
        return new RuleEngine(schemaOf(c), c.get("rules"), c.get("hashKey").asText().getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void theCasesAreThere() throws IOException {
        List<String> names = new ArrayList<>();
        for (Path p : caseFiles()) names.add(p.getFileName().toString());
        assertTrue(names.containsAll(List.of("clickstream.cases.json", "casts-and-errors.cases.json")), names.toString());
    }

    @Test
    void aChangedAggregateDefinitionIsANewWindowOperator() throws IOException {
        ObjectMapper m = new ObjectMapper();
        JsonNode a = m.readTree("{\"windowSeconds\":60,\"watermarkSeconds\":30,\"groupBy\":[\"event_type\"],\"measures\":{\"n\":{\"count\":\"*\"}}}");
        JsonNode b = m.readTree("{\"windowSeconds\":300,\"watermarkSeconds\":30,\"groupBy\":[\"event_type\"],\"measures\":{\"n\":{\"count\":\"*\"}}}");
        assertEquals(WindowAggregates.windowUid(a), WindowAggregates.windowUid(a.deepCopy()));
        assertTrue(WindowAggregates.windowUid(a).startsWith(WindowAggregates.UID_WINDOW + "-"));
        assertTrue(!WindowAggregates.windowUid(a).equals(WindowAggregates.windowUid(b)), "another window size, another operator");
    }

    @TestFactory
    Stream<DynamicTest> results() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path file : caseFiles()) {
            JsonNode c = read(file);
            JsonNode events = c.get("events");
            JsonNode expected = c.get("expected").get("results");
            tests.add(DynamicTest.dynamicTest(file.getFileName() + ": one result per event", () -> assertEquals(events.size(), expected.size())));
            RuleEngine engine = engine(c);
            SourceSchema output = SourceSchema.fromJson("output", c.get("outputSchema").toString());
            for (int i = 0; i < events.size(); i++) {
                JsonNode event = events.get(i);
                JsonNode want = expected.get(i);
                tests.add(DynamicTest.dynamicTest(file.getFileName() + " event " + i + " (" + event.path(c.get("idField").asText()).asText() + ")", () -> {
                    RuleEngine.Result got = engine.apply((ObjectNode) event.deepCopy());
                    if (want.has("row")) {
                        assertEquals(RuleEngine.Result.Kind.KEPT, got.kind, "kept, got " + got.kind + " " + got.detail);
                        assertTrue(jsonEquals(want.get("row"), got.event), "row\n  expected " + want.get("row") + "\n  got      " + got.event);
                        EventParser.row(output, got.event); // the kept event is a row of the output schema (the table's)
                    } else if (want.has("filtered")) {
                        assertEquals(RuleEngine.Result.Kind.FILTERED, got.kind, "filtered, got " + got.kind + " " + got.detail + " " + got.event);
                        assertEquals(want.get("filtered").asText(), got.detail);
                    } else {
                        assertEquals(RuleEngine.Result.Kind.ERROR, got.kind, "an error, got " + got.kind + " " + got.detail + " " + got.event);
                        assertEquals(want.get("error").asText(), got.detail);
                    }
                }));
            }
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> aggregates() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path file : caseFiles()) {
            JsonNode c = read(file);
            if (!c.path("expected").has("aggregates")) continue;
            tests.add(DynamicTest.dynamicTest(file.getFileName() + ": aggregates", () -> {
                JsonNode want = c.get("expected").get("aggregates");
                if (!c.path("aggregateSchema").isObject()) {
                    assertTrue(want.isEmpty(), "no aggregate section, yet aggregates are expected: " + want);
                    return;
                }
                JsonNode got = aggregate(c);
                assertTrue(jsonEquals(want, got), "aggregates\n  expected " + want + "\n  got      " + got);
            }));
        }
        return tests.stream();
    }

    /** The kept rows, deduplicated and aggregated by the job's operators on a mini cluster, as sorted JSON rows. */
    static ArrayNode aggregate(JsonNode c) throws Exception {
        RuleEngine engine = engine(c);
        SourceSchema output = SourceSchema.fromJson("output", c.get("outputSchema").toString());
        Schema events = output.iceberg();
        Schema table = SourceSchema.fromJson("aggregates", c.get("aggregateSchema").toString()).iceberg();
        List<RowData> rows = new ArrayList<>();
        for (JsonNode e : c.get("events")) {
            RuleEngine.Result r = engine.apply((ObjectNode) e.deepCopy());
            if (r.kind == RuleEngine.Result.Kind.KEPT) rows.add(EventParser.row(output, r.event));
        }
        String idField = c.get("idField").asText();
        int idPos = output.idPosition(idField);
        InternalTypeInfo<RowData> type = InternalTypeInfo.of(FlinkSchemaUtil.convert(events));

        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1); // arrival order kept
        DataStream<RowData> unique = env.fromData(rows, type)
                .keyBy(new DeduplicateById.IdKey(idPos, events.columns().get(idPos).type().typeId() == Type.TypeID.STRING))
                .process(new DeduplicateById(Duration.ofHours(1)), type);
        DataStream<RowData> out = WindowAggregates.attach(unique, c.get("rules").get("aggregate"), events,
                c.get("eventTimeField").asText(), table);
        List<ObjectNode> result = new ArrayList<>();
        try (CloseableIterator<RowData> it = out.executeAndCollect("rule cases " + c.path("description").asText().substring(0, 20))) {
            while (it.hasNext()) result.add(toJson(it.next(), table));
        }
        List<String> order = new ArrayList<>();
        order.add("window_start");
        for (JsonNode g : c.get("rules").get("aggregate").path("groupBy")) order.add(g.asText().replace('.', '_'));
        result.sort((a, b) -> {
            for (String k : order) {
                int cmp = a.path(k).asText("").compareTo(b.path(k).asText(""));
                if (a.path(k).isNull() != b.path(k).isNull()) return a.path(k).isNull() ? -1 : 1;
                if (cmp != 0) return cmp;
            }
            return 0;
        });
        ArrayNode arr = JSON.createArrayNode();
        result.forEach(arr::add);
        return arr;
    }

    static ObjectNode toJson(RowData row, Schema schema) {
        ObjectNode n = JSON.createObjectNode();
        List<Types.NestedField> cols = schema.columns();
        for (int i = 0; i < cols.size(); i++) {
            String name = cols.get(i).name();
            if (row.isNullAt(i)) {
                n.putNull(name);
                continue;
            }
            switch (cols.get(i).type().typeId()) {
                case TIMESTAMP: n.put(name, row.getTimestamp(i, 6).toInstant().toString()); break;
                case STRING: n.put(name, row.getString(i).toString()); break;
                case LONG: n.put(name, row.getLong(i)); break;
                case DOUBLE: n.put(name, row.getDouble(i)); break;
                case BOOLEAN: n.put(name, row.getBoolean(i)); break;
                default: fail("unexpected aggregate column type " + cols.get(i));
            }
        }
        return n;
    }

    /** As test/rules/README.md compares: JSON values, numbers by numeric value, a null member the same as an absent one. */
    static boolean jsonEquals(JsonNode a, JsonNode b) {
        if (a == null || a.isNull() || a.isMissingNode()) return b == null || b.isNull() || b.isMissingNode();
        if (b == null || b.isNull() || b.isMissingNode()) return false;
        if (a.isNumber() && b.isNumber()) return a.decimalValue().compareTo(b.decimalValue()) == 0;
        if (a.isObject() && b.isObject()) {
            TreeSet<String> keys = new TreeSet<>();
            a.fieldNames().forEachRemaining(keys::add);
            b.fieldNames().forEachRemaining(keys::add);
            for (String k : keys) if (!jsonEquals(a.get(k), b.get(k))) return false;
            return true;
        }
        if (a.isArray() && b.isArray()) {
            if (a.size() != b.size()) return false;
            for (int i = 0; i < a.size(); i++) if (!jsonEquals(a.get(i), b.get(i))) return false;
            return true;
        }
        return a.equals(b);
    }

    @Test
    void theComparisonIsTheReadmes() throws IOException {
        assertTrue(jsonEquals(JSON.readTree("{\"a\":7,\"b\":null}"), JSON.readTree("{\"a\":7.0}")));
        assertFalse(jsonEquals(JSON.readTree("{\"a\":7}"), JSON.readTree("{\"a\":\"7\"}")));
        assertFalse(jsonEquals(JSON.readTree("{\"a\":7}"), JSON.readTree("{\"a\":7,\"c\":1}")));
    }
}
