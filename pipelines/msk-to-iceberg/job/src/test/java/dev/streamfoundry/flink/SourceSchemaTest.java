package dev.streamfoundry.flink;

import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SourceSchemaTest {

    @Test
    void clickstreamSchemaFromTheRepositoryBecomesIcebergColumns() {
        SourceSchema s = SourceSchema.load("clickstream"); // schemas/clickstream.schema.json, copied into the JAR by the pom
        Schema schema = s.iceberg();
        assertEquals("clickstream", s.name());
        assertEquals(java.util.List.of("event_id", "event_type", "occurred_at", "user_id", "session_id", "page", "device",
                "tags", "duration_ms", "is_bot"), schema.columns().stream().map(Types.NestedField::name).toList());
        assertRequired(schema, "event_id", Types.StringType.get());
        assertRequired(schema, "occurred_at", Types.TimestampType.withZone());
        assertEquals(Types.LongType.get(), schema.findType("duration_ms"));
        assertTrue(schema.findField("duration_ms").isOptional());
        assertEquals(Types.BooleanType.get(), schema.findType("is_bot"));
        // nested object: required url inside an optional struct; ["string","null"] -> optional
        assertTrue(schema.findField("page").isOptional());
        assertTrue(schema.findField("page.url").isRequired());
        assertTrue(schema.findField("page.referrer").isOptional());
        assertEquals(Types.LongType.get(), schema.findType("device.screen_width"));
        Type tags = schema.findType("tags");
        assertEquals(Type.TypeID.LIST, tags.typeId());
        assertEquals(Types.StringType.get(), tags.asListType().elementType());
        assertTrue(tags.asListType().isElementRequired());
        assertEquals("Unique id of the event; duplicates share it.", schema.findField("event_id").doc());
    }

    @Test
    void ordersSchemaKeepsNumbersDatesListsOfStructsAndNullableObjects() {
        Schema schema = SourceSchema.load("schemas/orders.schema.json").iceberg();
        assertRequired(schema, "total_amount", Types.DoubleType.get());
        assertRequired(schema, "updated_at", Types.TimestampType.withZone());
        assertEquals(Types.DateType.get(), schema.findType("order_date"));
        assertTrue(schema.findField("shipping_address").isOptional(), "type [object, null] -> optional struct");
        assertTrue(schema.findField("shipping_address.country").isRequired());
        Types.ListType items = schema.findType("items").asListType();
        assertEquals(Type.TypeID.STRUCT, items.elementType().typeId());
        assertTrue(schema.findField("items.element.sku").isRequired());
        assertEquals(Types.LongType.get(), schema.findType("items.element.quantity"));
    }

    @Test
    void partitionedByEventDayAndIdColumnChecked() {
        SourceSchema s = SourceSchema.load("clickstream");
        PartitionSpec spec = s.partitionSpec("occurred_at");
        assertEquals(1, spec.fields().size());
        assertEquals("occurred_at_day", spec.fields().get(0).name());
        assertEquals("day", spec.fields().get(0).transform().toString());
        assertEquals(0, s.idPosition("event_id"));
        assertThrows(IllegalArgumentException.class, () -> s.partitionSpec("user_id"), "a string column cannot partition by day");
        assertThrows(IllegalArgumentException.class, () -> s.partitionSpec("missing"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.idPosition("duration_ms"));
        assertTrue(e.getMessage().contains("required"), e.getMessage());
    }

    @Test
    void whatIcebergCannotExpressFailsNamingTheLocation() {
        assertUnsupported("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":[\"string\",\"integer\"]}}}", "/properties/a", "union");
        assertUnsupported("{\"type\":\"object\",\"properties\":{\"a\":{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}}}", "/properties/a", "oneOf");
        assertUnsupported("{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"#/definitions/x\"}}}", "/properties/a", "$ref");
        assertUnsupported("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"object\"}}}", "/properties/a", "free-form");
        assertUnsupported("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"array\"}}}", "/properties/a", "items");
        assertUnsupported("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"array\",\"items\":[{\"type\":\"string\"}]}}}", "/properties/a/items", "tuple");
        assertUnsupported("{\"type\":\"object\",\"properties\":{\"a\":{\"description\":\"x\"}}}", "/properties/a", "no 'type'");
        assertUnsupported("{\"type\":\"array\",\"items\":{\"type\":\"string\"}}", "/", "top level");
        assertUnsupported("{\"type\":\"object\",\"required\":[\"b\"],\"properties\":{\"a\":{\"type\":\"string\"}}}", "/", "'b'");
    }

    @Test
    void mapsAndStringEnumsWithoutTypeAreExpressible() {
        Schema s = SourceSchema.fromJson("x", "{\"type\":\"object\",\"properties\":{"
                + "\"attrs\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"integer\"}},"
                + "\"kind\":{\"enum\":[\"a\",\"b\",null]}}}").iceberg();
        Types.MapType attrs = s.findType("attrs").asMapType();
        assertEquals(Types.StringType.get(), attrs.keyType());
        assertEquals(Types.LongType.get(), attrs.valueType());
        assertEquals(Types.StringType.get(), s.findType("kind"));
    }

    @Test
    void shapeIgnoresIdsAndDocsButNotTypes() {
        Schema a = SourceSchema.load("clickstream").iceberg();
        Schema b = SourceSchema.fromJson("c", SourceSchema.load("clickstream").json().replace("Unique id", "The id")).iceberg();
        assertEquals(SourceSchema.shape(a), SourceSchema.shape(b));
        Schema c = SourceSchema.fromJson("c", SourceSchema.load("clickstream").json()
                .replace("\"duration_ms\": { \"type\": \"integer\"", "\"duration_ms\": { \"type\": \"number\"")).iceberg();
        assertFalse(SourceSchema.shape(a).equals(SourceSchema.shape(c)));
    }

    @Test
    void unknownSchemaReferenceIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SourceSchema.load("no-such-source"));
        assertTrue(e.getMessage().contains("no-such-source"), e.getMessage());
    }

    private static void assertRequired(Schema schema, String name, Type type) {
        Types.NestedField f = schema.findField(name);
        assertEquals(type, f.type(), name);
        assertTrue(f.isRequired(), name + " required");
    }

    private static void assertUnsupported(String json, String pointer, String words) {
        UnsupportedSchemaException e = assertThrows(UnsupportedSchemaException.class, () -> SourceSchema.fromJson("t", json));
        assertTrue(e.getMessage().startsWith("JSON Schema at " + pointer + ":"), e.getMessage());
        assertTrue(e.getMessage().contains(words), e.getMessage());
    }
}
