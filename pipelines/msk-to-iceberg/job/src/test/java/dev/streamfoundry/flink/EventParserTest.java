package dev.streamfoundry.flink;

import org.apache.flink.table.data.ArrayData;
import org.apache.flink.table.data.RowData;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EventParserTest {
    private static final SourceSchema CLICKS = SourceSchema.load("clickstream");
    private static final SourceSchema ORDERS = SourceSchema.load("orders");
    static final String VALID = "{\"event_id\":\"0b7e4a52-8a1f-4c57-9a39-2f1d8e4c1a01\",\"event_type\":\"click\","
            + "\"occurred_at\":\"2026-11-20T10:15:02.120+01:00\",\"user_id\":\"u-1\",\"session_id\":\"s-1\","
            + "\"page\":{\"url\":\"https://shop.example.com/a\",\"referrer\":null},\"tags\":[\"x\",\"y\"],\"duration_ms\":42,\"is_bot\":false}";

    @Test
    void repositorySamplesAllParse() throws Exception {
        for (String source : List.of("clickstream", "orders")) {
            EventParser parser = new EventParser(SourceSchema.load(source));
            List<String> lines = Files.readAllLines(Path.of("../../../schemas/" + source + ".samples.ndjson"));
            assertFalse(lines.isEmpty());
            for (String line : lines) {
                EventParser.Result r = parser.parse(line.getBytes(StandardCharsets.UTF_8));
                assertTrue(r.ok(), source + ": " + r.reason + " <- " + line);
            }
        }
    }

    @Test
    void validEventBecomesARowInColumnOrder() {
        EventParser.Result r = new EventParser(CLICKS).parse(VALID.getBytes(StandardCharsets.UTF_8));
        assertTrue(r.ok(), r.reason);
        RowData row = r.row;
        assertEquals("0b7e4a52-8a1f-4c57-9a39-2f1d8e4c1a01", row.getString(0).toString());
        assertEquals("click", row.getString(1).toString());
        assertEquals(Instant.parse("2026-11-20T09:15:02.120Z"), row.getTimestamp(2, 6).toInstant(), "offset normalized to UTC");
        RowData page = row.getRow(5, 3);
        assertEquals("https://shop.example.com/a", page.getString(0).toString());
        assertTrue(page.isNullAt(1));
        assertTrue(page.isNullAt(2));
        assertTrue(row.isNullAt(6), "absent device");
        ArrayData tags = row.getArray(7);
        assertEquals(2, tags.size());
        assertEquals("y", tags.getString(1).toString());
        assertEquals(42L, row.getLong(8));
        assertFalse(row.getBoolean(9));
    }

    @Test
    void ordersDatesNumbersAndNestedLists() {
        String order = "{\"event_id\":\"7c1d2a10-51b3-4f6e-8d8e-0c3b6a9f0001\",\"order_id\":\"ORD-000123\",\"customer_id\":\"c\","
                + "\"status\":\"paid\",\"currency\":\"EUR\",\"total_amount\":10,\"items\":[{\"sku\":\"s\",\"quantity\":2,\"unit_price\":5}],"
                + "\"shipping_address\":null,\"order_date\":\"2026-11-20\",\"updated_at\":\"2026-11-20T09:18:45Z\"}";
        EventParser.Result r = new EventParser(ORDERS).parse(order.getBytes(StandardCharsets.UTF_8));
        assertTrue(r.ok(), r.reason);
        int pos = ORDERS.iceberg().columns().indexOf(ORDERS.iceberg().findField("total_amount"));
        assertEquals(10.0, r.row.getDouble(pos));
        int date = ORDERS.iceberg().columns().indexOf(ORDERS.iceberg().findField("order_date"));
        assertEquals((int) LocalDate.parse("2026-11-20").toEpochDay(), r.row.getInt(date));
        int items = ORDERS.iceberg().columns().indexOf(ORDERS.iceberg().findField("items"));
        assertEquals(2L, r.row.getArray(items).getRow(0, 3).getLong(1));
        int ship = ORDERS.iceberg().columns().indexOf(ORDERS.iceberg().findField("shipping_address"));
        assertTrue(r.row.isNullAt(ship));
    }

    @Test
    void malformedRecordsGetAReason() {
        EventParser p = new EventParser(CLICKS);
        assertReason(p, new byte[0], "empty record");
        assertReason(p, new byte[] {(byte) 0xC3, (byte) 0x28, '{', '}'}, "not UTF-8");
        assertReason(p, "{\"event_id\":".getBytes(StandardCharsets.UTF_8), "not valid JSON");
        assertReason(p, "{} trailing".getBytes(StandardCharsets.UTF_8), "not valid JSON");
        assertReason(p, "[1,2]".getBytes(StandardCharsets.UTF_8), "not a JSON object: array");
        assertReason(p, VALID.replace("\"user_id\":\"u-1\",", ""), "user_id");
        assertReason(p, VALID.replace("\"click\"", "\"scroll\""), "event_type");
        assertReason(p, VALID.replace("\"duration_ms\":42", "\"duration_ms\":\"42\""), "duration_ms");
        assertReason(p, VALID.replace("\"duration_ms\":42", "\"duration_ms\":-1"), "duration_ms");
        assertReason(p, VALID.replace("2026-11-20T10:15:02.120+01:00", "yesterday"), "occurred_at");
        assertReason(p, VALID.replace("0b7e4a52-8a1f-4c57-9a39-2f1d8e4c1a01", "not-a-uuid"), "event_id");
        assertReason(p, VALID.replace("\"is_bot\":false", "\"is_bot\":false,\"extra\":1"), "extra");
        assertReason(p, VALID.replace("\"is_bot\":false", "\"is_bot\":false,\"is_bot\":true"), "Duplicate field");
    }

    @Test
    void errorLineCarriesReasonRawAndCoordinates() throws Exception {
        RawRecord rec = new RawRecord("t", 2, 17, 1_700_000_000_000L, "{oops".getBytes(StandardCharsets.UTF_8));
        var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(ParseEvents.errorLine("clickstream", rec, "why"));
        assertEquals("why", node.get("reason").asText());
        assertEquals("{oops", node.get("raw").asText());
        assertEquals(17, node.get("offset").asLong());
        assertEquals("2023-11-14T22:13:20Z", node.get("kafka_timestamp").asText());
        RawRecord binary = new RawRecord("t", 0, 1, -1, new byte[] {(byte) 0xff, 0});
        var b = new com.fasterxml.jackson.databind.ObjectMapper().readTree(ParseEvents.errorLine("clickstream", binary, "not UTF-8 text"));
        assertEquals("/wA=", b.get("raw_base64").asText());
        assertNull(b.get("raw"));
    }

    private static void assertReason(EventParser p, String json, String words) {
        assertReason(p, json.getBytes(StandardCharsets.UTF_8), words);
    }

    private static void assertReason(EventParser p, byte[] bytes, String words) {
        EventParser.Result r = p.parse(bytes);
        assertFalse(r.ok(), "should be malformed: " + new String(bytes, StandardCharsets.UTF_8));
        assertTrue(r.reason.contains(words), "reason '" + r.reason + "' should mention '" + words + "'");
    }
}
