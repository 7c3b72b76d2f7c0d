package dev.streamfoundry.flink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.TypeUtil;
import org.apache.iceberg.types.Types;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A source's JSON Schema (the same file the landing-zone validator uses, from {@code schemas/}) and the Iceberg
 * schema derived from it. Mapping:
 *
 * <pre>
 * string                      -> string        string + format date-time -> timestamptz (UTC, microseconds)
 * string + format date        -> date          integer -> long; number -> double; boolean -> boolean
 * object with properties      -> struct        object with only an additionalProperties schema -> map&lt;string, T&gt;
 * array with an items schema  -> list&lt;T&gt;     enum / const of strings -> string
 * ["T", "null"]               -> optional T    (required in the schema and not nullable -> required column)
 * </pre>
 *
 * Validation keywords (pattern, minimum, enum, formats, additionalProperties: false ...) have no Iceberg type: the
 * parser enforces them with a JSON Schema validator. What cannot be expressed (unions of types, oneOf/anyOf/allOf,
 * $ref, tuple arrays, free-form objects, ...) fails with an {@link UnsupportedSchemaException} naming the location.
 */
public final class SourceSchema implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String SUFFIX = ".schema.json";

    private static final Set<String> UNSUPPORTED = Set.of("oneOf", "anyOf", "allOf", "not", "$ref", "if", "then",
            "else", "patternProperties", "dependencies", "dependentSchemas", "dependentRequired", "unevaluatedProperties",
            "propertyNames", "additionalItems", "contains", "$dynamicRef", "$recursiveRef", "prefixItems");

    private final String name;
    private final String json;
    private final Schema iceberg;

    private SourceSchema(String name, String json, Schema iceberg) {
        this.name = name;
        this.json = json;
        this.iceberg = iceberg;
    }

    /** The source name a {@code source.schema} reference stands for: {@code clickstream} for "clickstream", "schemas/clickstream.schema.json" ... */
    public static String nameOf(String reference) {
        String r = reference.trim();
        if (r.startsWith("{")) return "events";
        String base = r.replace('\\', '/');
        base = base.substring(base.lastIndexOf('/') + 1);
        if (base.endsWith(SUFFIX)) base = base.substring(0, base.length() - SUFFIX.length());
        else if (base.endsWith(".json")) base = base.substring(0, base.length() - ".json".length());
        return base.replaceAll("[^A-Za-z0-9_]", "_").toLowerCase();
    }

    /**
     * Loads a schema: inline JSON text (starts with '{'), a source name ("clickstream": {@code schemas/clickstream.schema.json}
     * in the JAR), a classpath resource, or a file path.
     */
    public static SourceSchema load(String reference) {
        String r = reference.trim();
        String text;
        if (r.startsWith("{")) {
            text = r;
        } else {
            text = readResource(r.contains("/") || r.endsWith(".json") ? r : "schemas/" + r + SUFFIX);
            if (text == null) {
                try {
                    text = Files.readString(Path.of(r), StandardCharsets.UTF_8);
                } catch (IOException | RuntimeException e) {
                    throw new IllegalArgumentException("source.schema '" + reference + "': no such source schema in the JAR ("
                            + "schemas/<name>.schema.json) and no readable file", e);
                }
            }
        }
        return fromJson(nameOf(r), text);
    }

    public static SourceSchema fromJson(String name, String json) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException("Schema '" + name + "' is not valid JSON: " + e.getMessage(), e);
        }
        return new SourceSchema(name, json, toIceberg(root));
    }

    /** An Iceberg schema as it is (an existing table's), for its column lookups ({@link #idPosition}); no JSON Schema. */
    static SourceSchema fromIceberg(String name, Schema iceberg) {
        return new SourceSchema(name, null, iceberg);
    }

    private static String readResource(String path) {
        String p = path.startsWith("/") ? path.substring(1) : path;
        try (InputStream in = SourceSchema.class.getClassLoader().getResourceAsStream(p)) {
            return in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("Cannot read resource " + p, e);
        }
    }

    public String name() {
        return name;
    }

    public String json() {
        return json;
    }

    public Schema iceberg() {
        return iceberg;
    }

    /** Partitioned by the day of the event-time column (a required date-time or date). */
    public PartitionSpec partitionSpec(String eventTimeField) {
        Types.NestedField f = iceberg.findField(eventTimeField);
        if (f == null || iceberg.columns().stream().noneMatch(c -> c.name().equals(eventTimeField))) {
            throw new IllegalArgumentException("source.event.time.field '" + eventTimeField + "' is not a top-level property of schema '" + name + "'");
        }
        if (f.type().typeId() != Type.TypeID.TIMESTAMP && f.type().typeId() != Type.TypeID.DATE) {
            throw new IllegalArgumentException("source.event.time.field '" + eventTimeField + "' must be a string with format date-time or date, is " + f.type());
        }
        if (f.isOptional()) {
            throw new IllegalArgumentException("source.event.time.field '" + eventTimeField + "' must be required and not nullable in schema '" + name + "'");
        }
        return PartitionSpec.builderFor(iceberg).day(eventTimeField, eventTimeField + "_day").build();
    }

    /** Position of the id column in a row; the id must be a required top-level string or integer. */
    public int idPosition(String idField) {
        List<Types.NestedField> cols = iceberg.columns();
        for (int i = 0; i < cols.size(); i++) {
            Types.NestedField c = cols.get(i);
            if (c.name().equals(idField)) {
                if (c.isOptional()) throw new IllegalArgumentException("source.id.field '" + idField + "' must be required and not nullable in schema '" + name + "'");
                if (c.type().typeId() != Type.TypeID.STRING && c.type().typeId() != Type.TypeID.LONG) {
                    throw new IllegalArgumentException("source.id.field '" + idField + "' must be a string or integer, is " + c.type());
                }
                return i;
            }
        }
        throw new IllegalArgumentException("source.id.field '" + idField + "' is not a top-level property of schema '" + name + "'");
    }

    // ---- derivation ----

    static Schema toIceberg(JsonNode root) {
        AtomicInteger ids = new AtomicInteger(0);
        Resolved r = resolve(root, "");
        if (r.kind != Kind.OBJECT) throw new UnsupportedSchemaException("", "the top level must be an object with properties, is " + r.kind.name().toLowerCase());
        Types.StructType struct = structOf(root, "", ids);
        return TypeUtil.assignIncreasingFreshIds(new Schema(struct.fields()));
    }

    private enum Kind { STRING, INTEGER, NUMBER, BOOLEAN, OBJECT, ARRAY }

    private static final class Resolved {
        final Kind kind;
        final boolean nullable;

        Resolved(Kind kind, boolean nullable) {
            this.kind = kind;
            this.nullable = nullable;
        }
    }

    private static Resolved resolve(JsonNode s, String ptr) {
        if (!s.isObject()) throw new UnsupportedSchemaException(ptr, "a schema must be an object (boolean schemas are not supported)");
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (UNSUPPORTED.contains(k)) {
                throw new UnsupportedSchemaException(ptr, "'" + k + "' has no Iceberg equivalent (a column needs exactly one type); "
                        + "inline one concrete type instead");
            }
        }
        List<String> types = new ArrayList<>();
        JsonNode t = s.get("type");
        if (t == null) {
            JsonNode values = s.has("enum") ? s.get("enum") : s.has("const") ? MAPPER.createArrayNode().add(s.get("const")) : null;
            if (values == null || !values.isArray() || values.isEmpty()) {
                throw new UnsupportedSchemaException(ptr, "no 'type' (an untyped value cannot become a column)");
            }
            boolean nullable = false;
            for (JsonNode v : values) {
                if (v.isNull()) nullable = true;
                else if (!v.isTextual()) throw new UnsupportedSchemaException(ptr, "an enum/const without 'type' must list strings");
            }
            return new Resolved(Kind.STRING, nullable);
        } else if (t.isTextual()) {
            types.add(t.asText());
        } else if (t.isArray()) {
            t.forEach(x -> types.add(x.asText()));
        } else {
            throw new UnsupportedSchemaException(ptr, "'type' must be a string or an array of strings");
        }
        boolean nullable = types.remove("null");
        if (types.size() != 1) {
            throw new UnsupportedSchemaException(ptr, types.isEmpty() ? "a column that is always null has no type"
                    : "a union of types " + types + " has no Iceberg equivalent (one type, optionally with \"null\")");
        }
        switch (types.get(0)) {
            case "string": return new Resolved(Kind.STRING, nullable);
            case "integer": return new Resolved(Kind.INTEGER, nullable);
            case "number": return new Resolved(Kind.NUMBER, nullable);
            case "boolean": return new Resolved(Kind.BOOLEAN, nullable);
            case "object": return new Resolved(Kind.OBJECT, nullable);
            case "array": return new Resolved(Kind.ARRAY, nullable);
            default: throw new UnsupportedSchemaException(ptr, "unknown type '" + types.get(0) + "'");
        }
    }

    private static Type typeOf(JsonNode s, Resolved r, String ptr, AtomicInteger ids) {
        switch (r.kind) {
            case STRING: {
                String format = s.path("format").asText("");
                if (format.equals("date-time")) return Types.TimestampType.withZone();
                if (format.equals("date")) return Types.DateType.get();
                return Types.StringType.get();
            }
            case INTEGER: return Types.LongType.get();
            case NUMBER: return Types.DoubleType.get();
            case BOOLEAN: return Types.BooleanType.get();
            case ARRAY: {
                JsonNode items = s.get("items");
                if (items == null) throw new UnsupportedSchemaException(ptr, "an array needs an 'items' schema (the element type)");
                if (items.isArray()) throw new UnsupportedSchemaException(ptr + "/items", "tuple arrays (items as a list) have no Iceberg equivalent");
                Resolved e = resolve(items, ptr + "/items");
                Type et = typeOf(items, e, ptr + "/items", ids);
                int id = ids.incrementAndGet();
                return e.nullable ? Types.ListType.ofOptional(id, et) : Types.ListType.ofRequired(id, et);
            }
            case OBJECT: {
                JsonNode props = s.get("properties");
                JsonNode additional = s.get("additionalProperties");
                if ((props == null || props.isEmpty()) && additional != null && additional.isObject()) {
                    Resolved v = resolve(additional, ptr + "/additionalProperties");
                    Type vt = typeOf(additional, v, ptr + "/additionalProperties", ids);
                    int k = ids.incrementAndGet();
                    int vid = ids.incrementAndGet();
                    return v.nullable ? Types.MapType.ofOptional(k, vid, Types.StringType.get(), vt)
                            : Types.MapType.ofRequired(k, vid, Types.StringType.get(), vt);
                }
                if (props == null || props.isEmpty()) {
                    throw new UnsupportedSchemaException(ptr, "an object without 'properties' (free-form) has no column type; "
                            + "declare its properties, or an 'additionalProperties' schema for a map");
                }
                return structOf(s, ptr, ids);
            }
            default: throw new IllegalStateException(r.kind.toString());
        }
    }

    private static Types.StructType structOf(JsonNode s, String ptr, AtomicInteger ids) {
        JsonNode props = s.get("properties");
        if (props == null || !props.isObject() || props.isEmpty()) {
            throw new UnsupportedSchemaException(ptr, "an object needs 'properties'");
        }
        Set<String> required = new HashSet<>();
        s.path("required").forEach(n -> required.add(n.asText()));
        for (String r : required) {
            if (!props.has(r)) throw new UnsupportedSchemaException(ptr, "'required' names '" + r + "', which is not in 'properties'");
        }
        List<Types.NestedField> fields = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String p = ptr + "/properties/" + e.getKey();
            Resolved r = resolve(e.getValue(), p);
            Type type = typeOf(e.getValue(), r, p, ids);
            String doc = e.getValue().has("description") ? e.getValue().get("description").asText() : null;
            int id = ids.incrementAndGet();
            fields.add(required.contains(e.getKey()) && !r.nullable
                    ? Types.NestedField.required(id, e.getKey(), type, doc)
                    : Types.NestedField.optional(id, e.getKey(), type, doc));
        }
        return Types.StructType.of(fields);
    }

    /** The schema's shape without field ids or docs: names, types, optionality. Used to compare with an existing table. */
    public static String shape(Schema schema) {
        return shape(schema.asStruct());
    }

    private static String shape(Type t) {
        switch (t.typeId()) {
            case STRUCT: {
                StringBuilder b = new StringBuilder("struct<");
                for (Types.NestedField f : t.asStructType().fields()) {
                    b.append(f.name()).append(f.isOptional() ? "?" : "!").append(':').append(shape(f.type())).append(',');
                }
                return b.append('>').toString();
            }
            case LIST: {
                Types.ListType l = t.asListType();
                return "list<" + (l.isElementOptional() ? "?" : "!") + shape(l.elementType()) + ">";
            }
            case MAP: {
                Types.MapType m = t.asMapType();
                return "map<" + shape(m.keyType()) + "," + (m.isValueOptional() ? "?" : "!") + shape(m.valueType()) + ">";
            }
            default:
                return t.toString();
        }
    }

    static ObjectNode parseObject(String json) throws IOException {
        return (ObjectNode) MAPPER.readTree(json);
    }
}
