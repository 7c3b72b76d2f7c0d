package dev.streamfoundry.flink;

import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.flink.CatalogLoader;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The events table when the processing rules change (docs/processing-rules.md, "The output schema"). */
class IcebergTablesTest {
    @TempDir
    Path dir;

    private static Schema schema(String extraProperties, String required) {
        return SourceSchema.fromJson("t", "{\"type\":\"object\",\"required\":[\"id\",\"at\"" + required + "],\"properties\":{"
                + "\"id\":{\"type\":\"string\"},\"at\":{\"type\":\"string\",\"format\":\"date-time\"}" + extraProperties + "}}").iceberg();
    }

    @Test
    void rulesEvolveTheTableAdditivelyAndRefuseAnIncompatibleRetype() {
        CatalogLoader loader = CatalogLoader.hadoop("hadoop", new Configuration(), Map.of("warehouse", dir.toUri().toString()));
        TableIdentifier id = TableIdentifier.of("db", "events");
        Schema v1 = schema(",\"page_key\":{\"type\":\"string\"},\"n\":{\"type\":\"integer\"}", ",\"page_key\"");
        PartitionSpec spec = PartitionSpec.builderFor(v1).day("at", "at_day").build();
        IcebergTables.ensureTable(loader, id, v1, spec, true);

        // Without rules a different schema is refused, as before.
        Schema v2 = schema(",\"n\":{\"type\":\"integer\"},\"is_purchase\":{\"type\":\"boolean\"}", ",\"is_purchase\"");
        IllegalStateException strict = assertThrows(IllegalStateException.class, () -> IcebergTables.ensureTable(loader, id, v2, spec));
        assertTrue(strict.getMessage().contains("exists with other columns"), strict.getMessage());

        // With rules: a new derived field added (optional: older rows have none), the dropped one kept and optional.
        Table t = IcebergTables.ensureTable(loader, id, v2, spec, true);
        assertEquals(Types.BooleanType.get(), t.schema().findField("is_purchase").type());
        assertTrue(t.schema().findField("is_purchase").isOptional());
        assertTrue(t.schema().findField("page_key").isOptional(), "a column the rules no longer write keeps its data");
        assertTrue(t.schema().findField("id").isRequired());
        // Idempotent: the evolved table is accepted as it is on the next start.
        assertEquals(t.schema().asStruct(), IcebergTables.ensureTable(loader, id, v2, spec, true).schema().asStruct());

        // A cast to another type cannot be applied in place.
        Schema v3 = schema(",\"n\":{\"type\":\"string\"}", "");
        IllegalStateException retype = assertThrows(IllegalStateException.class, () -> IcebergTables.ensureTable(loader, id, v3, spec, true));
        assertTrue(retype.getMessage().contains("cannot be evolved") && retype.getMessage().contains("n"), retype.getMessage());
    }

    /** The aggregates table evolves the same way: a measure of earlier rules stays a column, written null from then on. */
    @Test
    void anAggregatesColumnOfEarlierRulesIsWrittenNull() throws Exception {
        com.fasterxml.jackson.databind.JsonNode aggregate = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                "{\"windowSeconds\":60,\"groupBy\":[],\"measures\":{\"rows\":{\"count\":\"*\"}}}");
        Schema events = schema(",\"n\":{\"type\":\"integer\"}", "");
        String bounds = "\"window_start\":{\"type\":\"string\",\"format\":\"date-time\"},\"window_end\":{\"type\":\"string\",\"format\":\"date-time\"}";
        Schema table = SourceSchema.fromJson("a", "{\"type\":\"object\",\"required\":[\"window_start\",\"window_end\",\"rows\"],\"properties\":{"
                + bounds + ",\"rows\":{\"type\":\"integer\"},\"old_sum\":{\"type\":[\"integer\",\"null\"]}}}").iceberg();
        assertEquals(-3, new WindowAggregates.Spec(aggregate, events, table).columns[3]);
        Schema required = SourceSchema.fromJson("a", "{\"type\":\"object\",\"required\":[\"window_start\",\"window_end\",\"rows\",\"old\"],\"properties\":{"
                + bounds + ",\"rows\":{\"type\":\"integer\"},\"old\":{\"type\":\"integer\"}}}").iceberg();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new WindowAggregates.Spec(aggregate, events, required));
        assertTrue(e.getMessage().contains("old"), e.getMessage());
    }
}
