package dev.streamfoundry.flink;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.table.data.ArrayData;
import org.apache.flink.table.data.MapData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.types.logical.ArrayType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.MapType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.iceberg.Schema;
import org.apache.iceberg.flink.FlinkSchemaUtil;
import org.apache.iceberg.types.Types;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The delivery topic's records ({@code delivery.topic}): one per event that goes into the events table, built from the
 * same row.
 *
 * <ul>
 *   <li><b>Value</b>: one JSON object (UTF-8) with the table's columns: strings, integers, numbers, booleans as
 *   themselves; {@code timestamptz} as an ISO-8601 UTC instant ({@code 2026-11-20T09:15:02.120Z}, {@link
 *   java.time.Instant#toString()}: seconds always, fraction in groups of 3 digits when not zero), which is an RFC 3339
 *   {@code date-time}; {@code date} as {@code YYYY-MM-DD}; structs as objects, lists as arrays, maps as objects. A null
 *   column or struct field is <i>omitted</i> (a JSON Schema may declare a property optional without allowing
 *   {@code null}, and an evolved table's columns that the rules no longer produce are always null), so the payload
 *   validates against the table's JSON Schema (the source schema, or the processing document's {@code outputSchema});
 *   null list elements and map values stay {@code null} (position and key matter).</li>
 *   <li><b>Key</b>: the UTF-8 text of the key column's value ({@code delivery.key.field}, default the event id), written
 *   as in the value (a timestamp as its instant, a number in decimal); no key when the event has no value there.</li>
 *   <li><b>Header</b> {@value #EVENT_ID_HEADER}: the event id, as the landing validator's Kafka writer sends it
 *   (platform/handlers/kafka-writer.ts): the customer's deduplication key.</li>
 *   <li>No partition (the producer hashes the key: murmur2, so an id or key always lands on the same partition) and no
 *   timestamp (the producer's send time, so the topic's time-based retention counts from delivery, not from event
 *   time).</li>
 * </ul>
 *
 * Written by hand rather than with flink-json's JsonRowDataSerializationSchema: that format is not a dependency of this
 * JAR (it would be one more Flink module to bundle and keep in step with the runtime), and
 * this class, over the table's row type, gives the exact payload (nulls omitted, instants as {@code Instant.toString()},
 * like the error records' timestamps) plus the key and header from the same values.
 */
public final class DeliveryRecords implements KafkaRecordSerializationSchema<RowData> {
    private static final long serialVersionUID = 1L;
    private static final JsonFactory JSON = new JsonFactory();

    /** The header with the event id; the same name as the landing validator's Kafka writer (EVENT_ID_HEADER). */
    public static final String EVENT_ID_HEADER = "event-id";

    private final String topic;
    private final RowType rowType;
    private final int idPos;
    private final int keyPos;
    private transient Struct columns;
    private transient ByteArrayOutputStream buffer;

    /**
     * @param table    the events table's schema: the rows' columns, in order
     * @param produced the schema the job writes (source schema, or the rules' output schema): the key column must be one
     *                 of its top-level properties (a column an evolved table only keeps from earlier rules is always null)
     */
    public DeliveryRecords(String topic, Schema table, Schema produced, String idField, String keyField) {
        this.topic = topic;
        this.rowType = FlinkSchemaUtil.convert(table);
        this.idPos = position(table, idField, JobConfig.ID_FIELD);
        Types.NestedField keyColumn = produced.asStruct().field(keyField);
        if (keyColumn == null) {
            throw new IllegalArgumentException(JobConfig.DELIVERY_KEY_FIELD + " '" + keyField + "' is not a top-level column of the "
                    + "events table as the job writes it (columns: " + names(produced) + "); name one of them, or leave "
                    + JobConfig.DELIVERY_KEY_FIELD + " unset to key by the event id (" + JobConfig.ID_FIELD + ")");
        }
        if (!keyColumn.type().isPrimitiveType()) {
            throw new IllegalArgumentException(JobConfig.DELIVERY_KEY_FIELD + " '" + keyField + "' is a " + keyColumn.type()
                    + "; the record key needs a string, number, boolean, date or date-time column");
        }
        this.keyPos = position(table, keyField, JobConfig.DELIVERY_KEY_FIELD);
        compile(); // an unsupported column type fails here, at start
    }

    private static int position(Schema table, String name, String property) {
        List<Types.NestedField> cols = table.columns();
        for (int i = 0; i < cols.size(); i++) if (cols.get(i).name().equals(name)) return i;
        throw new IllegalArgumentException(property + " '" + name + "' is not a column of the events table (columns: " + names(table) + ")");
    }

    private static String names(Schema s) {
        return s.columns().stream().map(Types.NestedField::name).collect(Collectors.joining(", "));
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(RowData row, KafkaSinkContext context, Long timestamp) {
        if (columns == null) compile();
        byte[] value = value(row);
        byte[] k = row.isNullAt(keyPos) ? null : columns.text(row, keyPos);
        List<Header> headers = List.of(new RecordHeader(EVENT_ID_HEADER, columns.text(row, idPos)));
        return new ProducerRecord<>(topic, null, null, k, value, headers);
    }

    /** The JSON payload of one row. */
    byte[] value(RowData row) {
        if (columns == null) compile();
        buffer.reset();
        try (JsonGenerator g = JSON.createGenerator(buffer, JsonEncoding.UTF8)) {
            columns.write(g, row);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return buffer.toByteArray();
    }

    private void compile() {
        columns = new Struct(rowType, "");
        buffer = new ByteArrayOutputStream(512);
    }

    /** A row type's fields: names, getters (Flink's internal data) and writers. */
    private static final class Struct {
        private final String[] names;
        private final RowData.FieldGetter[] getters;
        private final Value[] values;

        Struct(RowType type, String path) {
            int n = type.getFieldCount();
            names = type.getFieldNames().toArray(new String[0]);
            getters = new RowData.FieldGetter[n];
            values = new Value[n];
            for (int i = 0; i < n; i++) {
                getters[i] = RowData.createFieldGetter(type.getTypeAt(i), i);
                values[i] = Value.of(type.getTypeAt(i), path.isEmpty() ? names[i] : path + "." + names[i]);
            }
        }

        void write(JsonGenerator g, RowData row) throws IOException {
            g.writeStartObject();
            for (int i = 0; i < names.length; i++) {
                Object v = getters[i].getFieldOrNull(row);
                if (v == null) continue; // omitted: see the class comment
                g.writeFieldName(names[i]);
                values[i].write(g, v);
            }
            g.writeEndObject();
        }

        /** A non-null scalar column's key / header text, UTF-8. */
        byte[] text(RowData row, int pos) {
            return values[pos].text(getters[pos].getFieldOrNull(row)).getBytes(StandardCharsets.UTF_8);
        }
    }

    /** Writes one value of a column type as JSON. */
    private interface Writer {
        void write(JsonGenerator g, Object v) throws IOException;
    }

    /** How one column type is written as JSON, and (for a scalar) as key / header text. */
    private static final class Value {
        private final Writer writer;
        private final Function<Object, String> text;

        private Value(Writer writer, Function<Object, String> text) {
            this.writer = writer;
            this.text = text;
        }

        /** A value written by `writer`, whose text is its {@code String.valueOf}. */
        private static Value of(Writer writer) {
            return new Value(writer, String::valueOf);
        }

        /** A value written as the JSON string of its text. */
        private static Value textual(Function<Object, String> text) {
            return new Value((g, v) -> g.writeString(text.apply(v)), text);
        }

        void write(JsonGenerator g, Object v) throws IOException {
            writer.write(g, v);
        }

        String text(Object v) {
            return text.apply(v);
        }

        static Value of(LogicalType t, String path) {
            switch (t.getTypeRoot()) {
                case CHAR:
                case VARCHAR:
                    return textual(v -> ((StringData) v).toString());
                case BIGINT:
                    return of((g, v) -> g.writeNumber((Long) v));
                case INTEGER:
                    return of((g, v) -> g.writeNumber((Integer) v));
                case DOUBLE:
                    return of((g, v) -> g.writeNumber((Double) v));
                case FLOAT:
                    return of((g, v) -> g.writeNumber((Float) v));
                case BOOLEAN:
                    return of((g, v) -> g.writeBoolean((Boolean) v));
                case DATE:
                    return textual(v -> LocalDate.ofEpochDay((Integer) v).toString());
                case TIMESTAMP_WITH_LOCAL_TIME_ZONE: // Iceberg timestamptz: an instant
                    return textual(v -> ((TimestampData) v).toInstant().toString());
                case ROW: {
                    Struct struct = new Struct((RowType) t, path);
                    return of((g, v) -> struct.write(g, (RowData) v));
                }
                case ARRAY: {
                    LogicalType elementType = ((ArrayType) t).getElementType();
                    Value element = of(elementType, path + "[]");
                    ArrayData.ElementGetter getter = ArrayData.createElementGetter(elementType);
                    return of((g, v) -> {
                        ArrayData a = (ArrayData) v;
                        g.writeStartArray();
                        for (int i = 0; i < a.size(); i++) {
                            Object e = getter.getElementOrNull(a, i);
                            if (e == null) g.writeNull();
                            else element.write(g, e);
                        }
                        g.writeEndArray();
                    });
                }
                case MAP: {
                    MapType m = (MapType) t;
                    Value keys = of(m.getKeyType(), path + ".key");
                    Value values = of(m.getValueType(), path + ".value");
                    ArrayData.ElementGetter keyGetter = ArrayData.createElementGetter(m.getKeyType());
                    ArrayData.ElementGetter valueGetter = ArrayData.createElementGetter(m.getValueType());
                    return of((g, v) -> {
                        MapData map = (MapData) v;
                        ArrayData ks = map.keyArray();
                        ArrayData vs = map.valueArray();
                        g.writeStartObject();
                        for (int i = 0; i < map.size(); i++) {
                            g.writeFieldName(keys.text(keyGetter.getElementOrNull(ks, i)));
                            Object e = valueGetter.getElementOrNull(vs, i);
                            if (e == null) g.writeNull();
                            else values.write(g, e);
                        }
                        g.writeEndObject();
                    });
                }
                default:
                    // SourceSchema derives none of these (decimal, binary, time, timestamp without zone ...); a table
                    // created otherwise fails at start rather than delivering a value the JSON Schema cannot describe.
                    throw new IllegalArgumentException("the delivery payload has no JSON encoding for column " + path + " of type "
                            + t.asSummaryString() + " (" + JobConfig.DELIVERY_TOPIC + ")");
            }
        }
    }
}
