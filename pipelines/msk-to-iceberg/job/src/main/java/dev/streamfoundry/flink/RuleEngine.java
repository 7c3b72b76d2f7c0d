package dev.streamfoundry.flink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The processing rules of docs/processing-rules.md (filters, then transforms) on one event, as a hand-written
 * interpreter over a Jackson tree. The rules are compiled once against the source schema's field types (tracked through
 * the transforms, so a rule sees the types the previous ones left); {@link #apply} then mutates the event in place and
 * returns it kept, filtered (the rule's name) or failed (the exact reason the specification gives).
 *
 * <p>Semantics pinned for every engine by test/rules/*.cases.json: absent = a key on the path missing or JSON null;
 * JSON types as parsed (an integral token is an integer, {@code 3.0} is a number; a number field also accepts
 * integers, as in JSON Schema); casts with the specification's patterns, 64-bit range and finite checks; HMAC-SHA256
 * lower-case hex of the UTF-8 bytes; fixed masks counting code points; concat of integers in decimal at any size.
 * Not thread-safe (one HMAC instance); one per task.
 */
public final class RuleEngine {
    private static final Pattern INTEGER = Pattern.compile("^-?[0-9]+$");
    private static final Pattern NUMBER = Pattern.compile("^-?[0-9]+(\\.[0-9]+)?([eE][+-]?[0-9]+)?$");
    private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** What became of one event. */
    public static final class Result {
        public enum Kind { KEPT, FILTERED, ERROR }

        public final Kind kind;
        /** The transformed event (KEPT). */
        public final ObjectNode event;
        /** FILTERED: the filter's name; ERROR: {@code rule <name>: <why>}. */
        public final String detail;

        private Result(Kind kind, ObjectNode event, String detail) {
            this.kind = kind;
            this.event = event;
            this.detail = detail;
        }
    }

    /** An event a rule cannot evaluate: the reason names the rule. */
    static final class RuleFailure extends Exception {
        private static final long serialVersionUID = 1L;

        RuleFailure(String rule, String why) {
            super("rule " + rule + ": " + why, null, false, false);
        }
    }

    private final List<Filter> filters = new ArrayList<>();
    private final List<Transform> transforms = new ArrayList<>();
    private final Mac hmac;

    /**
     * @param sourceSchema the source's JSON Schema (field types)
     * @param rules        the rules file (validated at synth; a malformed one fails here, naming the rule)
     * @param hashKey      the key of {@code mask … with: hash}; may be null when no rule hashes
     */
    public RuleEngine(JsonNode sourceSchema, JsonNode rules, byte[] hashKey) {
        Map<String, String> types = new HashMap<>();
        collectTypes(sourceSchema, "", types);
        for (JsonNode f : rules.path("filter")) filters.add(compileFilter(f, types));
        boolean hashes = false;
        for (JsonNode t : rules.path("transform")) {
            Transform compiled = compileTransform(t, types);
            hashes |= compiled instanceof Mask && ((Mask) compiled).hash;
            transforms.add(compiled);
        }
        if (hashes) {
            if (hashKey == null || hashKey.length == 0) {
                throw new IllegalStateException("a rule masks with a keyed hash, but no hash key was given ("
                        + JobConfig.HASH_KEY_SECRET + " or the environment variable " + HashKey.ENV + ")");
            }
            try {
                hmac = Mac.getInstance("HmacSHA256");
                hmac.init(new SecretKeySpec(hashKey, "HmacSHA256"));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("HmacSHA256 unavailable", e);
            }
        } else {
            hmac = null;
        }
    }

    /** True when a transform masks with the keyed hash (the job then needs the key). */
    public static boolean needsHashKey(JsonNode rules) {
        for (JsonNode t : rules.path("transform")) {
            if (t.has("mask") && "hash".equals(t.path("with").asText())) return true;
        }
        return false;
    }

    /** Filters, then transforms, on {@code event} (changed in place). */
    public Result apply(ObjectNode event) {
        try {
            for (Filter f : filters) {
                boolean c = f.condition.test(event, f.name);
                if (f.keep != c) return new Result(Result.Kind.FILTERED, null, f.name);
            }
            for (Transform t : transforms) t.apply(event);
            return new Result(Result.Kind.KEPT, event, null);
        } catch (RuleFailure e) {
            return new Result(Result.Kind.ERROR, null, e.getMessage());
        }
    }

    // ---- field types ----

    private static void collectTypes(JsonNode schema, String prefix, Map<String, String> out) {
        JsonNode props = schema.path("properties");
        for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String path = prefix + e.getKey();
            String type = typeOf(e.getValue());
            out.put(path, type);
            if (type.equals("object")) collectTypes(e.getValue(), path + ".", out);
        }
    }

    /** The schema's one non-null type; an enum/const without a type is a string (as SourceSchema maps it). */
    private static String typeOf(JsonNode s) {
        JsonNode t = s.get("type");
        if (t == null) return "string";
        if (t.isTextual()) return t.asText();
        for (JsonNode x : t) if (!x.asText().equals("null")) return x.asText();
        return "null";
    }

    private static String typeOfValue(JsonNode v) {
        if (v.isTextual()) return "string";
        if (v.isIntegralNumber() || isWhole(v)) return "integer";
        if (v.isNumber()) return "number";
        if (v.isBoolean()) return "boolean";
        if (v.isObject()) return "object";
        if (v.isArray()) return "array";
        return v.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    }

    /** A JSON number with no fractional part (3.0): an integer for JSON Schema (draft-07) and for the rules. */
    private static boolean isWhole(JsonNode v) {
        if (!v.isNumber() || v.isIntegralNumber()) return false;
        if (v.isDouble() || v.isFloat()) {
            double x = v.doubleValue();
            return Double.isFinite(x) && x == Math.rint(x);
        }
        return v.decimalValue().stripTrailingZeros().scale() <= 0;
    }

    private static boolean hasType(JsonNode v, String type) {
        switch (type) {
            case "string": return v.isTextual();
            case "integer": return v.isIntegralNumber() || isWhole(v);
            case "number": return v.isNumber();
            case "boolean": return v.isBoolean();
            case "object": return v.isObject();
            case "array": return v.isArray();
            default: return false;
        }
    }

    private static String known(Map<String, String> types, String rule, String field) {
        String t = types.get(field);
        if (t == null) throw new IllegalArgumentException("rule " + rule + ": unknown field " + field);
        return t;
    }

    // ---- field access ----

    /** A field path compiled: its keys and the type the schema promises at that point of the rules. */
    private static final class Field {
        final String path;
        final String[] keys;
        final String type;

        Field(String path, String type) {
            this.path = path;
            this.keys = path.split("\\.");
            this.type = type;
        }

        /** The value, or null when absent; a non-object on the way or a value of another type fails the event. */
        JsonNode get(ObjectNode event, String rule) throws RuleFailure {
            ObjectNode parent = parent(event, rule);
            if (parent == null) return null;
            JsonNode v = parent.get(keys[keys.length - 1]);
            if (v == null || v.isNull()) return null;
            if (!hasType(v, type)) throw new RuleFailure(rule, "field " + path + " is " + typeOfValue(v) + ", expected " + type);
            // A whole number in an integer field (3.0) is the integer 3, as JSON Schema counts it.
            if (type.equals("integer") && !v.isIntegralNumber()) return BigIntegerNode.valueOf(v.decimalValue().toBigIntegerExact());
            return v;
        }

        JsonNode require(ObjectNode event, String rule) throws RuleFailure {
            JsonNode v = get(event, rule);
            if (v == null) throw new RuleFailure(rule, "field " + path + " is missing");
            return v;
        }

        /** The object holding the last key, or null when a key on the way is absent. */
        ObjectNode parent(ObjectNode event, String rule) throws RuleFailure {
            JsonNode cur = event;
            for (int i = 0; i < keys.length - 1; i++) {
                JsonNode next = cur.get(keys[i]);
                if (next == null || next.isNull()) return null;
                if (!next.isObject()) {
                    throw new RuleFailure(rule, "field " + String.join(".", java.util.Arrays.copyOf(keys, i + 1)) + " is "
                            + typeOfValue(next) + ", expected object");
                }
                cur = next;
            }
            return (ObjectNode) cur;
        }

        String last() {
            return keys[keys.length - 1];
        }
    }

    // ---- conditions ----

    @FunctionalInterface
    private interface Condition {
        boolean test(ObjectNode event, String rule) throws RuleFailure;
    }

    private static Condition compileCondition(JsonNode c, Map<String, String> types, String rule) {
        if (c.has("all") || c.has("any")) {
            boolean all = c.has("all");
            List<Condition> parts = new ArrayList<>();
            for (JsonNode p : c.get(all ? "all" : "any")) parts.add(compileCondition(p, types, rule));
            return (e, r) -> {
                for (Condition p : parts) {
                    // Left to right, stopping at the first decisive part (a later part is not evaluated: no error from it).
                    if (p.test(e, r) != all) return !all;
                }
                return all;
            };
        }
        if (c.has("not")) {
            Condition inner = compileCondition(c.get("not"), types, rule);
            return (e, r) -> !inner.test(e, r);
        }
        if (!c.has("field")) throw new IllegalArgumentException("rule " + rule + ": a condition needs all, any, not or field: " + c);
        Field f = new Field(c.get("field").asText(), known(types, rule, c.get("field").asText()));
        if (c.has("exists")) {
            boolean want = c.get("exists").asBoolean();
            return (e, r) -> {
                ObjectNode parent;
                try {
                    parent = f.parent(e, r);
                } catch (RuleFailure notAnObjectOnTheWay) {
                    parent = null; // exists is never an error: a path through a non-object leads nowhere
                }
                JsonNode v = parent == null ? null : parent.get(f.last());
                return (v != null && !v.isNull()) == want;
            };
        }
        for (String op : new String[] {"eq", "ne", "in"}) {
            if (!c.has(op)) continue;
            List<JsonNode> literals = new ArrayList<>();
            if (op.equals("in")) c.get("in").forEach(literals::add);
            else literals.add(c.get(op));
            boolean negate = op.equals("ne");
            return (e, r) -> {
                JsonNode v = f.require(e, r);
                boolean match = false;
                for (JsonNode lit : literals) {
                    if (equal(v, lit, f.type)) {
                        match = true;
                        break;
                    }
                }
                return match != negate;
            };
        }
        for (String op : new String[] {"gt", "gte", "lt", "lte"}) {
            if (!c.has(op)) continue;
            JsonNode lit = c.get(op);
            return (e, r) -> {
                int cmp = compare(f.require(e, r), lit, f.type);
                switch (op) {
                    case "gt": return cmp > 0;
                    case "gte": return cmp >= 0;
                    case "lt": return cmp < 0;
                    default: return cmp <= 0;
                }
            };
        }
        if (c.has("startsWith")) {
            String prefix = c.get("startsWith").asText();
            return (e, r) -> f.require(e, r).textValue().startsWith(prefix);
        }
        throw new IllegalArgumentException("rule " + rule + ": unknown condition " + c);
    }

    /** Equality by the field's type: integers exactly, numbers as doubles, strings and booleans as themselves. */
    private static boolean equal(JsonNode v, JsonNode lit, String type) {
        switch (type) {
            case "integer":
            case "number":
                return lit.isNumber() && compare(v, lit, type) == 0;
            case "string":
                return lit.isTextual() && v.textValue().equals(lit.textValue());
            case "boolean":
                return lit.isBoolean() && v.booleanValue() == lit.booleanValue();
            default:
                return v.equals(lit);
        }
    }

    /** Integer fields compare exactly (any size); number fields as doubles, as Spark compares a double column. */
    private static int compare(JsonNode v, JsonNode lit, String type) {
        if (type.equals("integer")) return v.decimalValue().compareTo(lit.decimalValue());
        return Double.compare(v.doubleValue() + 0.0, lit.doubleValue() + 0.0); // + 0.0: -0.0 equals 0.0
    }

    // ---- filters ----

    private static final class Filter {
        final String name;
        final boolean keep;
        final Condition condition;

        Filter(String name, boolean keep, Condition condition) {
            this.name = name;
            this.keep = keep;
            this.condition = condition;
        }
    }

    private static Filter compileFilter(JsonNode f, Map<String, String> types) {
        String name = f.path("name").asText();
        if (f.has("keep")) return new Filter(name, true, compileCondition(f.get("keep"), types, name));
        if (f.has("drop")) return new Filter(name, false, compileCondition(f.get("drop"), types, name));
        throw new IllegalArgumentException("filter " + name + ": needs keep or drop");
    }

    // ---- transforms ----

    @FunctionalInterface
    private interface Transform {
        void apply(ObjectNode event) throws RuleFailure;
    }

    private final class Mask implements Transform {
        final String rule;
        final Field field;
        final boolean hash;
        final int keepLast;

        Mask(String rule, Field field, boolean hash, int keepLast) {
            this.rule = rule;
            this.field = field;
            this.hash = hash;
            this.keepLast = keepLast;
        }

        @Override
        public void apply(ObjectNode event) throws RuleFailure {
            JsonNode v = field.get(event, rule);
            if (v == null) return;
            String s = v.textValue();
            field.parent(event, rule).put(field.last(), hash ? hmacHex(s) : fixedMask(s, keepLast));
        }
    }

    private Transform compileTransform(JsonNode t, Map<String, String> types) {
        String name = t.path("name").asText();
        if (t.has("rename")) {
            String path = t.get("rename").asText();
            known(types, name, path);
            Field f = new Field(path, "any");
            String to = t.get("to").asText();
            String target = path.contains(".") ? path.substring(0, path.lastIndexOf('.') + 1) + to : to;
            moveTypes(types, path, target);
            return e -> {
                ObjectNode parent = f.parent(e, name);
                if (parent == null) return;
                JsonNode v = parent.remove(f.last());
                if (v != null && !v.isNull()) parent.set(to, v);
            };
        }
        if (t.has("drop")) {
            String path = t.get("drop").asText();
            known(types, name, path);
            Field f = new Field(path, "any");
            removeTypes(types, path);
            return e -> {
                ObjectNode parent = f.parent(e, name);
                if (parent != null) parent.remove(f.last());
            };
        }
        if (t.has("mask")) {
            String path = t.get("mask").asText();
            Field f = new Field(path, known(types, name, path));
            String with = t.path("with").asText();
            if (!with.equals("hash") && !with.equals("fixed")) throw new IllegalArgumentException("rule " + name + ": with is hash or fixed");
            return new Mask(name, f, with.equals("hash"), t.path("keepLast").asInt(0));
        }
        if (t.has("cast")) {
            String path = t.get("cast").asText();
            String from = known(types, name, path);
            String to = t.get("to").asText();
            Field f = new Field(path, from);
            Caster caster = caster(from, to, name, path);
            types.put(path, to);
            return e -> {
                JsonNode v = f.get(e, name);
                if (v == null) return;
                JsonNode out = caster.cast(v);
                if (out == null) throw new RuleFailure(name, "cannot cast field " + path + " to " + to);
                f.parent(e, name).set(f.last(), out);
            };
        }
        if (t.has("derive")) {
            String target = t.get("derive").asText();
            JsonNode from = t.get("from");
            if (from.has("condition")) {
                Condition c = compileCondition(from.get("condition"), types, name);
                types.put(target, "boolean");
                return e -> e.set(target, BooleanNode.valueOf(c.test(e, name)));
            }
            if (from.has("concat")) {
                List<Object> parts = new ArrayList<>();
                for (JsonNode p : from.get("concat")) {
                    if (p.isTextual()) {
                        parts.add(p.asText());
                    } else {
                        String path = p.get("field").asText();
                        String type = known(types, name, path);
                        if (!type.equals("string") && !type.equals("integer") && !type.equals("boolean")) {
                            throw new IllegalArgumentException("rule " + name + ": concat takes string, integer or boolean fields, " + path + " is " + type);
                        }
                        parts.add(new Field(path, type));
                    }
                }
                types.put(target, "string");
                return e -> {
                    StringBuilder b = new StringBuilder();
                    for (Object p : parts) {
                        if (p instanceof String) b.append((String) p);
                        else b.append(((Field) p).require(e, name).asText()); // integers in decimal at any size, booleans true/false
                    }
                    e.put(target, b.toString());
                };
            }
            if (from.has("field")) {
                String path = from.get("field").asText();
                Field f = new Field(path, known(types, name, path));
                copyTypes(types, path, target);
                return e -> e.set(target, f.require(e, name).deepCopy());
            }
            throw new IllegalArgumentException("rule " + name + ": derive from condition, concat or field");
        }
        throw new IllegalArgumentException("rule " + name + ": unknown transform " + t);
    }

    private static void moveTypes(Map<String, String> types, String from, String to) {
        copyTypes(types, from, to);
        removeTypes(types, from);
    }

    private static void copyTypes(Map<String, String> types, String from, String to) {
        Map<String, String> add = new HashMap<>();
        types.forEach((k, v) -> {
            if (k.equals(from)) add.put(to, v);
            else if (k.startsWith(from + ".")) add.put(to + k.substring(from.length()), v);
        });
        types.putAll(add);
    }

    private static void removeTypes(Map<String, String> types, String path) {
        types.keySet().removeIf(k -> k.equals(path) || k.startsWith(path + "."));
    }

    // ---- casts ----

    /** Returns the converted value, or null when the value cannot be converted (the event fails). */
    @FunctionalInterface
    private interface Caster {
        JsonNode cast(JsonNode v);
    }

    private static Caster caster(String from, String to, String rule, String path) {
        switch (from + "->" + to) {
            case "string->integer":
                return v -> {
                    String s = v.textValue();
                    if (!INTEGER.matcher(s).matches()) return null;
                    try {
                        return LongNode.valueOf(Long.parseLong(s));
                    } catch (NumberFormatException e) {
                        return null; // outside the 64-bit range
                    }
                };
            case "string->number":
                return v -> {
                    String s = v.textValue();
                    if (!NUMBER.matcher(s).matches()) return null;
                    double d = Double.parseDouble(s);
                    return Double.isFinite(d) ? DoubleNode.valueOf(d) : null;
                };
            case "string->boolean":
                return v -> v.textValue().equals("true") ? BooleanNode.TRUE : v.textValue().equals("false") ? BooleanNode.FALSE : null;
            case "integer->string":
            case "boolean->string":
                return v -> TextNode.valueOf(v.asText());
            case "integer->number":
                // Nearest double (ties to even): BigInteger.doubleValue and the long conversion both round so.
                return v -> DoubleNode.valueOf(v.isBigInteger() ? v.bigIntegerValue().doubleValue() : (double) v.longValue());
            case "number->integer":
                return v -> {
                    BigInteger i;
                    if (v.isIntegralNumber()) {
                        i = v.bigIntegerValue();
                    } else {
                        BigDecimal d;
                        if (v.isDouble() || v.isFloat()) {
                            double x = v.doubleValue();
                            if (!Double.isFinite(x)) return null;
                            d = new BigDecimal(x);
                        } else {
                            d = v.decimalValue();
                        }
                        try {
                            i = d.toBigIntegerExact();
                        } catch (ArithmeticException notWhole) {
                            return null;
                        }
                    }
                    return i.compareTo(LONG_MIN) < 0 || i.compareTo(LONG_MAX) > 0 ? null : LongNode.valueOf(i.longValue());
                };
            default:
                throw new IllegalArgumentException("rule " + rule + ": cannot cast " + path + " from " + from + " to " + to);
        }
    }

    // ---- masks ----

    private String hmacHex(String s) {
        byte[] mac = hmac.doFinal(s.getBytes(StandardCharsets.UTF_8));
        char[] out = new char[mac.length * 2];
        for (int i = 0; i < mac.length; i++) {
            out[2 * i] = HEX[(mac[i] >> 4) & 0xF];
            out[2 * i + 1] = HEX[mac[i] & 0xF];
        }
        return new String(out);
    }

    /** Every code point {@code *} but the last {@code keepLast}; all {@code *} when there are no more than that. */
    static String fixedMask(String s, int keepLast) {
        int n = s.codePointCount(0, s.length());
        if (n <= keepLast) return "*".repeat(n);
        int keepFrom = s.offsetByCodePoints(0, n - keepLast);
        return "*".repeat(n - keepLast) + s.substring(keepFrom);
    }
}
