package dev.streamfoundry.flink;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericMapData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Turns one record's bytes into a Flink {@link RowData} in the Iceberg schema's column order, or a reason why not:
 * not UTF-8, not one JSON object, fails the source's JSON Schema (every keyword: required, types, enum, pattern,
 * formats, additionalProperties ...), or a value the column type cannot hold. Not thread-safe; one per task.
 */
public final class EventParser {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final int MAX_REASONS = 5;

    /** A row, a reason, (with processing rules) the name of the filter that removed the event, or a freshness canary. */
    public static final class Result {
        public final RowData row;
        public final String reason;
        public final String filteredBy;
        /** A schema-valid canary event (its id carries the canary prefix): no row, no reason. */
        public final Canary canary;

        private Result(RowData row, String reason) {
            this(row, reason, null);
        }

        private Result(RowData row, String reason, String filteredBy) {
            this(row, reason, filteredBy, null);
        }

        private Result(RowData row, String reason, String filteredBy, Canary canary) {
            this.row = row;
            this.reason = reason;
            this.filteredBy = filteredBy;
            this.canary = canary;
        }

        public boolean isCanary() {
            return canary != null;
        }

        public boolean ok() {
            return row != null;
        }

        public boolean filtered() {
            return filteredBy != null;
        }
    }

    private final Types.StructType struct;
    private final JsonSchema validator;
    /** The source canaries are receipted for; with {@link #canaryIdField}. */
    private final String source;
    /** The top-level field whose value marks a freshness canary (the source's id field); null: none recognised. */
    private final String canaryIdField;
    /** Null without processing rules: the row is then the source schema's. */
    private final RuleEngine rules;
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);

    public EventParser(SourceSchema schema) {
        this(schema, null, null);
    }

    /**
     * With processing rules: validated against the source schema, then the rules (filters, transforms), then the row
     * in the output schema's columns (docs/processing-rules.md, "Where rules run").
     */
    public EventParser(SourceSchema schema, Processing processing, byte[] hashKey) {
        this(schema, processing, hashKey, null);
    }

    /** As above, writing rows of {@code rowSchema} (an evolved table's columns) when given. */
    public EventParser(SourceSchema schema, Processing processing, byte[] hashKey, org.apache.iceberg.Schema rowSchema) {
        this(schema, processing, hashKey, rowSchema, null, null);
    }

    /**
     * As above, recognising freshness canaries of {@code source} (the source's name as configured, which receipt keys
     * carry; the schema's name may differ: '-' becomes '_') by the value of {@code canaryIdField} (the source's id field).
     */
    public EventParser(SourceSchema schema, Processing processing, byte[] hashKey, org.apache.iceberg.Schema rowSchema,
                       String canaryIdField, String source) {
        this.source = source;
        this.canaryIdField = canaryIdField;
        this.struct = rowSchema != null ? rowSchema.asStruct() : (processing == null ? schema : processing.outputSchema()).iceberg().asStruct();
        JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7);
        SchemaValidatorsConfig config = SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build();
        try {
            this.validator = factory.getSchema(MAPPER.readTree(schema.json()), config);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("Schema '" + schema.name() + "' is not valid JSON", e);
        }
        try {
            this.rules = processing == null ? null : new RuleEngine(MAPPER.readTree(schema.json()), processing.rules(), hashKey);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("Schema '" + schema.name() + "' is not valid JSON", e);
        }
    }

    public Result parse(byte[] bytes) {
        if (bytes == null || bytes.length == 0) return new Result(null, "empty record");
        String text;
        try {
            text = utf8.reset().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return new Result(null, "not UTF-8 text");
        }
        JsonNode node;
        try {
            node = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            return new Result(null, "not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            return new Result(null, "not a JSON object: " + (node == null ? "nothing" : node.getNodeType().name().toLowerCase(Locale.ROOT)));
        }
        Set<ValidationMessage> errors = validator.validate(node);
        if (!errors.isEmpty()) {
            String reasons = errors.stream().map(ValidationMessage::getMessage).sorted().limit(MAX_REASONS)
                    .collect(Collectors.joining("; "));
            return new Result(null, "schema violation: " + reasons + (errors.size() > MAX_REASONS ? "; ..." : ""));
        }
        // A canary is recognised by its id alone, once it has passed the schema like any event, and before the rules:
        // a filter or a transform must not decide whether freshness is measured.
        if (canaryIdField != null) {
            JsonNode id = node.get(canaryIdField);
            long publishedAt = id != null && id.isTextual() ? Canary.publishedAt(id.textValue()) : -1;
            if (publishedAt >= 0) return new Result(null, null, null, new Canary(source, id.textValue(), publishedAt));
        }
        if (rules != null) {
            RuleEngine.Result r = rules.apply((ObjectNode) node);
            if (r.kind == RuleEngine.Result.Kind.FILTERED) return new Result(null, null, r.detail);
            if (r.kind == RuleEngine.Result.Kind.ERROR) return new Result(null, r.detail);
        }
        try {
            return new Result(struct(struct, node, "$"), null);
        } catch (IllegalArgumentException e) {
            return new Result(null, "invalid value: " + e.getMessage());
        }
    }

    /** A JSON object as a row of {@code schema}'s columns (RuleCasesTest builds the kept rows so). */
    static RowData row(SourceSchema schema, JsonNode node) {
        return struct(schema.iceberg().asStruct(), node, "$");
    }

    private static GenericRowData struct(Types.StructType type, JsonNode node, String path) {
        List<Types.NestedField> fields = type.fields();
        GenericRowData row = new GenericRowData(fields.size());
        for (int i = 0; i < fields.size(); i++) {
            Types.NestedField f = fields.get(i);
            JsonNode v = node.get(f.name());
            String p = path + "." + f.name();
            if (v == null || v.isNull()) {
                if (f.isRequired()) throw new IllegalArgumentException(p + ": required");
                row.setField(i, null);
            } else {
                row.setField(i, value(f.type(), v, p));
            }
        }
        return row;
    }

    private static Object value(Type type, JsonNode v, String path) {
        switch (type.typeId()) {
            case STRING:
                if (!v.isTextual()) throw new IllegalArgumentException(path + ": expected a string");
                return StringData.fromString(v.textValue());
            case LONG:
                if (!v.isIntegralNumber() && !(v.isNumber() && v.decimalValue().stripTrailingZeros().scale() <= 0)) {
                    throw new IllegalArgumentException(path + ": expected an integer");
                }
                if (!v.canConvertToLong()) throw new IllegalArgumentException(path + ": integer out of the 64-bit range");
                return v.longValue();
            case DOUBLE:
                if (!v.isNumber()) throw new IllegalArgumentException(path + ": expected a number");
                double d = v.doubleValue();
                if (Double.isInfinite(d)) throw new IllegalArgumentException(path + ": number out of the double range");
                return d;
            case BOOLEAN:
                if (!v.isBoolean()) throw new IllegalArgumentException(path + ": expected a boolean");
                return v.booleanValue();
            case TIMESTAMP:
                return TimestampData.fromInstant(instant(v, path));
            case DATE:
                try {
                    return (int) LocalDate.parse(v.asText()).toEpochDay();
                } catch (DateTimeParseException e) {
                    throw new IllegalArgumentException(path + ": not a date (YYYY-MM-DD)");
                }
            case STRUCT:
                if (!v.isObject()) throw new IllegalArgumentException(path + ": expected an object");
                return struct(type.asStructType(), v, path);
            case LIST: {
                if (!v.isArray()) throw new IllegalArgumentException(path + ": expected an array");
                Types.ListType l = type.asListType();
                Object[] out = new Object[v.size()];
                for (int i = 0; i < out.length; i++) {
                    JsonNode e = v.get(i);
                    if (e.isNull()) {
                        if (l.isElementRequired()) throw new IllegalArgumentException(path + "[" + i + "]: null element");
                        out[i] = null;
                    } else {
                        out[i] = value(l.elementType(), e, path + "[" + i + "]");
                    }
                }
                return new GenericArrayData(out);
            }
            case MAP: {
                if (!v.isObject()) throw new IllegalArgumentException(path + ": expected an object");
                Types.MapType m = type.asMapType();
                Map<Object, Object> out = new LinkedHashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    Object val = e.getValue().isNull() ? null : value(m.valueType(), e.getValue(), path + "." + e.getKey());
                    if (val == null && m.isValueRequired()) throw new IllegalArgumentException(path + "." + e.getKey() + ": null value");
                    out.put(StringData.fromString(e.getKey()), val);
                }
                return new GenericMapData(out);
            }
            default:
                throw new IllegalStateException("unsupported column type " + type);
        }
    }

    /** RFC 3339 date-time (the JSON Schema format): 'T' or 't', 'Z'/'z' or an offset; stored as an instant (UTC). */
    static Instant instant(JsonNode v, String path) {
        try {
            return OffsetDateTime.parse(v.asText().toUpperCase(Locale.ROOT)).toInstant();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(path + ": not an RFC 3339 date-time");
        }
    }

    /** For the error output: the raw bytes as text when they are UTF-8, else null. */
    static String utf8OrNull(byte[] bytes) {
        if (bytes == null) return null;
        try {
            CharBuffer cb = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
            return cb.toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
