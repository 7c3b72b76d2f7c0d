package dev.streamfoundry.flink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import org.apache.flink.table.data.RowData;
import org.apache.flink.util.InstantiationUtil;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Types;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The delivery topic's records: payload (validated against the table's JSON Schema), key and header, from rows. */
class DeliveryRecordsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The table's JSON Schema as the landing validator and the parser apply it (draft-07, formats asserted). */
    static JsonSchema validator(String schemaJson) throws Exception {
        return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7)
                .getSchema(JSON.readTree(schemaJson), SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build());
    }

    /** The payload: valid against the schema, no explicit nulls in objects. */
    static JsonNode checkedPayload(JsonSchema schema, byte[] value) throws Exception {
        JsonNode payload = JSON.readTree(new String(value, StandardCharsets.UTF_8));
        Set<ValidationMessage> errors = schema.validate(payload);
        assertTrue(errors.isEmpty(), "payload " + payload + " fails the table's JSON Schema: " + errors);
        assertFalse(hasNullMember(payload), "null members are omitted: " + payload);
        return payload;
    }

    private static boolean hasNullMember(JsonNode n) {
        if (n.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                JsonNode v = it.next().getValue();
                if (v.isNull() || hasNullMember(v)) return true;
            }
        }
        if (n.isArray()) for (JsonNode e : n) if (hasNullMember(e)) return true;
        return false;
    }

    private static RowData row(EventParser parser, String event) {
        EventParser.Result r = parser.parse(event.getBytes(StandardCharsets.UTF_8));
        assertTrue(r.ok(), r.reason);
        return r.row;
    }

    private static String header(ProducerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private static String key(ProducerRecord<byte[], byte[]> r) {
        return r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8);
    }

    /**
     * Every sample of both repository sources comes out as the event that came in (date-times as UTC instants, JSON
     * nulls omitted), valid against its schema, keyed by the event id with the id in the event-id header.
     */
    @Test
    void everyRepositorySampleIsDeliveredAsItCameInAndValidatesAgainstItsSchema() throws Exception {
        for (String source : List.of("clickstream", "orders")) {
            SourceSchema schema = SourceSchema.load(source);
            String timeField = source.equals("clickstream") ? "occurred_at" : "updated_at";
            DeliveryRecords records = new DeliveryRecords(source + "-delivery", schema.iceberg(), schema.iceberg(), "event_id", "event_id");
            JsonSchema validator = validator(schema.json());
            EventParser parser = new EventParser(schema);
            List<String> samples = Files.readAllLines(Path.of("../../../schemas/" + source + ".samples.ndjson"));
            assertTrue(samples.size() >= 3, source);
            for (String sample : samples) {
                ObjectNode in = (ObjectNode) JSON.readTree(sample);
                ProducerRecord<byte[], byte[]> r = records.serialize(row(parser, sample), null, null);
                assertEquals(source + "-delivery", r.topic());
                assertNull(r.partition(), "the producer partitions by the key");
                assertNull(r.timestamp(), "the producer's send time");
                JsonNode out = checkedPayload(validator, r.value());
                ObjectNode expected = in.deepCopy();
                expected.put(timeField, OffsetDateTime.parse(in.get(timeField).asText()).toInstant().toString());
                assertTrue(RuleCasesTest.jsonEquals(expected, out), "\n  in  " + sample + "\n  out " + out);
                assertEquals(in.get("event_id").asText(), key(r));
                assertEquals(in.get("event_id").asText(), header(r, DeliveryRecords.EVENT_ID_HEADER));
            }
        }
    }

    @Test
    void dateTimesAreUtcInstantsAndDatesAreCalendarDays() throws Exception {
        SourceSchema orders = SourceSchema.load("orders");
        DeliveryRecords records = new DeliveryRecords("t", orders.iceberg(), orders.iceberg(), "event_id", "event_id");
        EventParser parser = new EventParser(orders);
        String first = Files.readAllLines(Path.of("../../../schemas/orders.samples.ndjson")).get(0);
        for (String[] c : new String[][] {
                {"2026-11-20T09:18:45Z", "2026-11-20T09:18:45Z"},
                {"2026-11-20T09:18:45.000Z", "2026-11-20T09:18:45Z"},
                {"2026-11-20T09:18:45.1+01:00", "2026-11-20T08:18:45.100Z"},
                {"2026-11-20t09:18:45.123456z", "2026-11-20T09:18:45.123456Z"},
                {"2026-11-20T23:30:00-02:00", "2026-11-21T01:30:00Z"}}) {
            ObjectNode e = (ObjectNode) JSON.readTree(first);
            e.put("updated_at", c[0]);
            JsonNode out = JSON.readTree(records.value(row(parser, e.toString())));
            assertEquals(c[1], out.get("updated_at").asText(), c[0]);
            assertEquals("2026-11-20", out.get("order_date").asText());
        }
    }

    /** A key column other than the id; an event without a value there has no key (the header still has the id). */
    @Test
    void theKeyFieldsValueIsTheKeyAndAnAbsentOneGivesNoKey() throws Exception {
        SourceSchema orders = SourceSchema.load("orders");
        List<String> samples = Files.readAllLines(Path.of("../../../schemas/orders.samples.ndjson"));
        EventParser parser = new EventParser(orders);
        DeliveryRecords byCustomer = new DeliveryRecords("t", orders.iceberg(), orders.iceberg(), "event_id", "customer_id");
        ProducerRecord<byte[], byte[]> r = byCustomer.serialize(row(parser, samples.get(0)), null, null);
        assertEquals("c-77", key(r));
        assertEquals("7c1d2a10-51b3-4f6e-8d8e-0c3b6a9f0001", header(r, DeliveryRecords.EVENT_ID_HEADER));

        DeliveryRecords byDay = new DeliveryRecords("t", orders.iceberg(), orders.iceberg(), "event_id", "order_date");
        assertEquals("2026-11-20", key(byDay.serialize(row(parser, samples.get(0)), null, null)));
        ProducerRecord<byte[], byte[]> noDate = byDay.serialize(row(parser, samples.get(1)), null, null);
        assertNull(noDate.key(), "no order_date: no key");
        assertEquals("7c1d2a10-51b3-4f6e-8d8e-0c3b6a9f0002", header(noDate, DeliveryRecords.EVENT_ID_HEADER));

        DeliveryRecords byTime = new DeliveryRecords("t", orders.iceberg(), orders.iceberg(), "event_id", "updated_at");
        assertEquals("2026-11-20T09:18:45Z", key(byTime.serialize(row(parser, samples.get(0)), null, null)));
        DeliveryRecords byAmount = new DeliveryRecords("t", orders.iceberg(), orders.iceberg(), "event_id", "total_amount");
        assertEquals("129.9", key(byAmount.serialize(row(parser, samples.get(0)), null, null)));
    }

    /** Maps, lists with null elements, integer ids; the schema after a Java serialization round trip (as the sink ships it). */
    @Test
    void mapsListsAndIntegerIdsAfterSerialization() throws Exception {
        String schemaJson = "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"id\",\"at\"],\"properties\":{"
                + "\"id\":{\"type\":\"integer\"},\"at\":{\"type\":\"string\",\"format\":\"date-time\"},"
                + "\"scores\":{\"type\":\"object\",\"additionalProperties\":{\"type\":[\"number\",\"null\"]}},"
                + "\"flags\":{\"type\":\"array\",\"items\":{\"type\":[\"boolean\",\"null\"]}},"
                + "\"days\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"format\":\"date\"}},"
                + "\"note\":{\"type\":[\"string\",\"null\"]}}}";
        SourceSchema s = SourceSchema.fromJson("misc", schemaJson);
        DeliveryRecords records = InstantiationUtil.clone(new DeliveryRecords("misc-out", s.iceberg(), s.iceberg(), "id", "id"));
        String event = "{\"id\":9007199254740993,\"at\":\"2026-01-01T00:00:00Z\",\"scores\":{\"a\":1.5,\"b\":null,\"\\u00e9\\\"\":-2},"
                + "\"flags\":[true,null,false],\"days\":[\"2026-02-28\"],\"note\":null}";
        ProducerRecord<byte[], byte[]> r = records.serialize(row(new EventParser(s), event), null, null);
        JsonNode out = JSON.readTree(r.value());
        assertTrue(validator(schemaJson).validate(out).isEmpty(), out.toString());
        assertEquals("{\"id\":9007199254740993,\"at\":\"2026-01-01T00:00:00Z\",\"scores\":{\"a\":1.5,\"b\":null,\"é\\\"\":-2.0},"
                + "\"flags\":[true,null,false],\"days\":[\"2026-02-28\"]}", new String(r.value(), StandardCharsets.UTF_8));
        assertArrayEquals("9007199254740993".getBytes(StandardCharsets.UTF_8), r.key(), "an integer id in decimal, exactly");
        assertEquals("9007199254740993", header(r, DeliveryRecords.EVENT_ID_HEADER));
    }

    @Test
    void aKeyFieldThatIsNotAWrittenScalarColumnOrAColumnWithoutJsonFailsAtStart() {
        SourceSchema orders = SourceSchema.load("orders");
        Schema t = orders.iceberg();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DeliveryRecords("t", t, t, "event_id", "customer"));
        assertTrue(e.getMessage().startsWith("delivery.key.field 'customer' is not a top-level column"), e.getMessage());
        assertTrue(e.getMessage().contains("customer_id"), "lists the columns: " + e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new DeliveryRecords("t", t, t, "event_id", "shipping_address.country"));
        assertTrue(e.getMessage().startsWith("delivery.key.field 'shipping_address.country' is not a top-level column"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new DeliveryRecords("t", t, t, "event_id", "items"));
        assertTrue(e.getMessage().startsWith("delivery.key.field 'items' is a list<"), e.getMessage());

        // A column an evolved table keeps from earlier rules, which the current ones no longer produce: not a key.
        Schema evolved = new Schema(List.of(Types.NestedField.required(1, "event_id", Types.StringType.get()),
                Types.NestedField.optional(2, "old_key", Types.StringType.get())));
        Schema produced = new Schema(List.of(Types.NestedField.required(1, "event_id", Types.StringType.get())));
        e = assertThrows(IllegalArgumentException.class, () -> new DeliveryRecords("t", evolved, produced, "event_id", "old_key"));
        assertTrue(e.getMessage().contains("'old_key' is not a top-level column"), e.getMessage());
        new DeliveryRecords("t", evolved, produced, "event_id", "event_id"); // its rows are still delivered (old_key omitted)

        Schema decimal = new Schema(List.of(Types.NestedField.required(1, "event_id", Types.StringType.get()),
                Types.NestedField.optional(2, "price", Types.DecimalType.of(10, 2))));
        e = assertThrows(IllegalArgumentException.class, () -> new DeliveryRecords("t", decimal, decimal, "event_id", "event_id"));
        assertTrue(e.getMessage().contains("column price of type DECIMAL(10, 2)"), e.getMessage());
    }
}
