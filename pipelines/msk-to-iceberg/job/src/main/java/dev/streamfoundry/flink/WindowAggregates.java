package dev.streamfoundry.flink;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.api.common.eventtime.SerializableTimestampAssigner;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.apache.iceberg.Schema;
import org.apache.iceberg.flink.FlinkSchemaUtil;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The {@code aggregate} section of the processing rules (docs/processing-rules.md, "Aggregates") on the transformed,
 * deduplicated rows: event-time watermarks (bounded out-of-orderness = {@code watermarkSeconds}, with idleness so a
 * subtask without events does not hold the others back), keyed by the group-by columns, tumbling event-time windows of
 * {@code windowSeconds} aligned to the epoch, one row per window and group when the watermark passes the window's end.
 * Measures as in SQL: absent values ignored, {@code sum/min/max} null when a window has none, {@code countDistinct}
 * exact (a set per window). An event behind the watermark (its window already final) is counted in
 * {@code eventsLate}, not silently dropped; it is in the events table all the same.
 */
public final class WindowAggregates {
    public static final String UID_WATERMARKS = "aggregate-watermarks";
    public static final String UID_WINDOW = "aggregate-window";
    public static final String UID_LATE = "aggregate-late";
    public static final String UID_LATE_SINK = "aggregate-late-discard";
    /** A deduplicate subtask without events for this long stops holding back the window's watermark. */
    public static final Duration IDLE_TIMEOUT = Duration.ofMinutes(1);
    public static final int DEFAULT_WATERMARK_SECONDS = 60;

    private WindowAggregates() {
    }

    /** The window operator's uid: {@link #UID_WINDOW} and a digest of the aggregate section as the document has it. */
    static String windowUid(JsonNode aggregate) {
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(aggregate.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return UID_WINDOW + "-" + String.format("%02x%02x%02x%02x", digest[0], digest[1], digest[2], digest[3]);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Adds the aggregation to {@code rows} (rows of {@code eventsSchema}) and returns the aggregate rows, in the columns
     * of {@code aggregateSchema} (the aggregates table's).
     */
    public static DataStream<RowData> attach(DataStream<RowData> rows, JsonNode aggregate, Schema eventsSchema,
                                             String eventTimeField, Schema aggregateSchema) {
        int windowSeconds = aggregate.path("windowSeconds").asInt(0);
        if (windowSeconds < 1 || windowSeconds > 86400) throw new IllegalArgumentException("aggregate.windowSeconds: 1-86400, got " + aggregate.path("windowSeconds"));
        int watermarkSeconds = aggregate.path("watermarkSeconds").asInt(DEFAULT_WATERMARK_SECONDS);
        Spec spec = new Spec(aggregate, eventsSchema, aggregateSchema);
        InternalTypeInfo<RowData> eventRows = InternalTypeInfo.of(FlinkSchemaUtil.convert(eventsSchema));
        OutputTag<RowData> late = new OutputTag<>("late", eventRows);

        WatermarkStrategy<RowData> watermarks = WatermarkStrategy
                .<RowData>forBoundedOutOfOrderness(Duration.ofSeconds(watermarkSeconds))
                .withTimestampAssigner(new EventTime(RowPath.of(eventsSchema, eventTimeField)))
                .withIdleness(IDLE_TIMEOUT);
        SingleOutputStreamOperator<RowData> out = rows
                .assignTimestampsAndWatermarks(watermarks).uid(UID_WATERMARKS).name("Event time (watermark " + watermarkSeconds + " s)")
                .keyBy(new GroupKey(spec.groups))
                .window(TumblingEventTimeWindows.of(Duration.ofSeconds(windowSeconds)))
                .sideOutputLateData(late)
                .aggregate(new Measures(spec), new WindowRow(spec), TypeInformation.of(Acc.class), TypeInformation.of(Acc.class),
                        InternalTypeInfo.of(FlinkSchemaUtil.convert(aggregateSchema)))
                // The definition's digest in the uid: changed windows, keys or measures are a new operator whose state
                // starts empty (restoring the old one needs allowNonRestoredState once: the runbook), never old
                // accumulators read as new ones.
                .uid(windowUid(aggregate)).name("Aggregate per " + windowSeconds + " s window");
        out.getSideOutput(late)
                .process(new CountLate(), eventRows).uid(UID_LATE).name("Count late events")
                .sinkTo(new DiscardingSink<>()).uid(UID_LATE_SINK).name("Late events (counted)");
        return out;
    }

    // ---- field access on rows ----

    /** A (possibly nested) column of a row, read as a plain Java value: String, Long, Double, Boolean, Integer (date), Long (timestamp micros). */
    static final class RowPath implements Serializable {
        private static final long serialVersionUID = 1L;
        final int[] positions;
        final int[] arities;
        final Type.TypeID type;

        private RowPath(int[] positions, int[] arities, Type.TypeID type) {
            this.positions = positions;
            this.arities = arities;
            this.type = type;
        }

        static RowPath of(Schema schema, String path) {
            String[] keys = path.split("\\.");
            int[] positions = new int[keys.length];
            int[] arities = new int[keys.length];
            Types.StructType struct = schema.asStruct();
            Type type = null;
            for (int i = 0; i < keys.length; i++) {
                if (struct == null) throw new IllegalArgumentException("aggregate: " + path + " is not a column of the output schema");
                List<Types.NestedField> fields = struct.fields();
                int pos = -1;
                for (int j = 0; j < fields.size(); j++) if (fields.get(j).name().equals(keys[i])) pos = j;
                if (pos < 0) throw new IllegalArgumentException("aggregate: " + path + " is not a column of the output schema");
                positions[i] = pos;
                arities[i] = fields.size();
                type = fields.get(pos).type();
                struct = type.isStructType() ? type.asStructType() : null;
            }
            switch (type.typeId()) {
                case STRING: case LONG: case DOUBLE: case BOOLEAN: case DATE: case TIMESTAMP:
                    return new RowPath(positions, arities, type.typeId());
                default:
                    throw new IllegalArgumentException("aggregate: " + path + " is a " + type + ", not a value that can be grouped or measured");
            }
        }

        Object get(RowData row) {
            RowData r = row;
            for (int i = 0; i < positions.length - 1; i++) {
                if (r.isNullAt(positions[i])) return null;
                r = r.getRow(positions[i], arities[i + 1]);
            }
            int p = positions[positions.length - 1];
            if (r.isNullAt(p)) return null;
            switch (type) {
                case STRING: return r.getString(p).toString();
                case LONG: return r.getLong(p);
                case DOUBLE: return r.getDouble(p);
                case BOOLEAN: return r.getBoolean(p);
                case DATE: return r.getInt(p);
                case TIMESTAMP: {
                    TimestampData t = r.getTimestamp(p, 6);
                    return t.getMillisecond() * 1000 + t.getNanoOfMillisecond() / 1000;
                }
                default: throw new IllegalStateException(type.toString());
            }
        }

        /** The value as the row field of a table (strings as StringData, timestamps as TimestampData). */
        Object internal(Object v) {
            if (v == null) return null;
            if (type == Type.TypeID.STRING) return StringData.fromString((String) v);
            if (type == Type.TypeID.TIMESTAMP) {
                long micros = (Long) v;
                return TimestampData.fromEpochMillis(Math.floorDiv(micros, 1000), (int) Math.floorMod(micros, 1000) * 1000);
            }
            return v;
        }
    }

    static final class EventTime implements SerializableTimestampAssigner<RowData> {
        private static final long serialVersionUID = 1L;
        private final RowPath path;

        EventTime(RowPath path) {
            if (path.type != Type.TypeID.TIMESTAMP && path.type != Type.TypeID.DATE) {
                throw new IllegalArgumentException("the event-time field must be a date-time or date column");
            }
            this.path = path;
        }

        @Override
        public long extractTimestamp(RowData row, long previous) {
            Object v = path.get(row);
            if (path.type == Type.TypeID.DATE) return ((Integer) v) * 86_400_000L;
            return Math.floorDiv((Long) v, 1000);
        }
    }

    /** The group-by values as one string key, length-prefixed so no two groups collide ({@code -} for absent). */
    static final class GroupKey implements KeySelector<RowData, String> {
        private static final long serialVersionUID = 1L;
        private final RowPath[] groups;

        GroupKey(RowPath[] groups) {
            this.groups = groups;
        }

        @Override
        public String getKey(RowData row) {
            StringBuilder b = new StringBuilder();
            for (RowPath g : groups) {
                Object v = g.get(row);
                if (v == null) {
                    b.append('-');
                } else {
                    String s = v.toString();
                    b.append(s.length()).append(':').append(s);
                }
                b.append('|');
            }
            return b.toString();
        }
    }

    // ---- the measures ----

    enum Kind { COUNT, COUNT_DISTINCT, SUM, MIN, MAX }

    /** The aggregate section compiled against the events table's and the aggregates table's schemas. */
    static final class Spec implements Serializable {
        private static final long serialVersionUID = 1L;
        final RowPath[] groups;
        final Kind[] kinds;
        final RowPath[] fields;
        /** Per aggregates-table column: -1 window_start, -2 window_end, -3 none (an older rule's column: null), 0..g-1 a group, g.. a measure. */
        final int[] columns;

        Spec(JsonNode aggregate, Schema events, Schema table) {
            List<String> groupNames = new ArrayList<>();
            List<RowPath> groupPaths = new ArrayList<>();
            for (JsonNode g : aggregate.path("groupBy")) {
                groupNames.add(g.asText().replace('.', '_'));
                groupPaths.add(RowPath.of(events, g.asText()));
            }
            List<String> measureNames = new ArrayList<>();
            List<Kind> kinds = new ArrayList<>();
            List<RowPath> fields = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = aggregate.path("measures").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> m = it.next();
                measureNames.add(m.getKey());
                JsonNode def = m.getValue();
                String op = def.fieldNames().hasNext() ? def.fieldNames().next() : "";
                switch (op) {
                    case "count": kinds.add(Kind.COUNT); fields.add(null); break;
                    case "countDistinct": kinds.add(Kind.COUNT_DISTINCT); fields.add(RowPath.of(events, def.get(op).asText())); break;
                    case "sum": kinds.add(Kind.SUM); fields.add(numeric(events, def.get(op).asText(), m.getKey())); break;
                    case "min": kinds.add(Kind.MIN); fields.add(numeric(events, def.get(op).asText(), m.getKey())); break;
                    case "max": kinds.add(Kind.MAX); fields.add(numeric(events, def.get(op).asText(), m.getKey())); break;
                    default: throw new IllegalArgumentException("aggregate.measures." + m.getKey() + ": unknown measure " + def);
                }
            }
            this.groups = groupPaths.toArray(new RowPath[0]);
            this.kinds = kinds.toArray(new Kind[0]);
            this.fields = fields.toArray(new RowPath[0]);
            List<Types.NestedField> cols = table.columns();
            this.columns = new int[cols.size()];
            for (int i = 0; i < cols.size(); i++) {
                String n = cols.get(i).name();
                if (n.equals("window_start")) columns[i] = -1;
                else if (n.equals("window_end")) columns[i] = -2;
                else if (groupNames.contains(n)) columns[i] = groupNames.indexOf(n);
                else if (measureNames.contains(n)) columns[i] = groups.length + measureNames.indexOf(n);
                else if (cols.get(i).isOptional()) columns[i] = -3; // a measure or group of earlier rules, kept by the table
                else throw new IllegalArgumentException("aggregateSchema column " + n + " is neither a window bound, a group-by column nor a measure");
            }
        }

        private static RowPath numeric(Schema events, String field, String measure) {
            RowPath p = RowPath.of(events, field);
            if (p.type != Type.TypeID.LONG && p.type != Type.TypeID.DOUBLE) {
                throw new IllegalArgumentException("aggregate.measures." + measure + ": " + field + " is not an integer or number field");
            }
            return p;
        }
    }

    /** One window's state for one group (Kryo-serialized; tumbling windows never merge, merge is there for completeness). */
    public static final class Acc implements Serializable {
        private static final long serialVersionUID = 1L;
        public Object[] group;
        public long rows;
        public boolean[] seen;
        public long[] longs;
        public double[] doubles;
        public boolean[] overflow;
        public HashSet<String>[] distinct;

        public Acc() {
        }

        @SuppressWarnings("unchecked")
        Acc(int measures) {
            seen = new boolean[measures];
            longs = new long[measures];
            doubles = new double[measures];
            overflow = new boolean[measures];
            distinct = new HashSet[measures];
        }
    }

    static final class Measures implements AggregateFunction<RowData, Acc, Acc> {
        private static final long serialVersionUID = 1L;
        private final Spec spec;

        Measures(Spec spec) {
            this.spec = spec;
        }

        @Override
        public Acc createAccumulator() {
            return new Acc(spec.kinds.length);
        }

        @Override
        public Acc add(RowData row, Acc acc) {
            if (acc.group == null) {
                acc.group = new Object[spec.groups.length];
                for (int i = 0; i < spec.groups.length; i++) acc.group[i] = spec.groups[i].get(row);
            }
            acc.rows++;
            for (int m = 0; m < spec.kinds.length; m++) {
                if (spec.kinds[m] == Kind.COUNT) continue;
                Object v = spec.fields[m].get(row);
                if (v == null) continue; // absent values are ignored, as in SQL
                switch (spec.kinds[m]) {
                    case COUNT_DISTINCT:
                        if (acc.distinct[m] == null) acc.distinct[m] = new HashSet<>();
                        acc.distinct[m].add(v.toString()); // one field, one type: its text is its identity
                        break;
                    case SUM:
                        if (v instanceof Long) {
                            try {
                                acc.longs[m] = acc.seen[m] ? Math.addExact(acc.longs[m], (Long) v) : (Long) v;
                            } catch (ArithmeticException e) {
                                acc.overflow[m] = true;
                            }
                        } else {
                            acc.doubles[m] = acc.seen[m] ? acc.doubles[m] + (Double) v : (Double) v;
                        }
                        break;
                    case MIN:
                    case MAX: {
                        boolean min = spec.kinds[m] == Kind.MIN;
                        if (v instanceof Long) {
                            long x = (Long) v;
                            if (!acc.seen[m] || (min ? x < acc.longs[m] : x > acc.longs[m])) acc.longs[m] = x;
                        } else {
                            double x = (Double) v;
                            if (!acc.seen[m] || (min ? x < acc.doubles[m] : x > acc.doubles[m])) acc.doubles[m] = x;
                        }
                        break;
                    }
                    default:
                        break;
                }
                acc.seen[m] = true;
            }
            return acc;
        }

        @Override
        public Acc getResult(Acc acc) {
            return acc;
        }

        @Override
        public Acc merge(Acc a, Acc b) {
            if (a.group == null) a.group = b.group;
            a.rows += b.rows;
            for (int m = 0; m < spec.kinds.length; m++) {
                if (!b.seen[m]) continue;
                boolean isLong = spec.fields[m] != null && spec.fields[m].type == Type.TypeID.LONG;
                switch (spec.kinds[m]) {
                    case COUNT_DISTINCT:
                        if (a.distinct[m] == null) a.distinct[m] = new HashSet<>();
                        a.distinct[m].addAll(b.distinct[m]);
                        break;
                    case SUM:
                        a.overflow[m] |= b.overflow[m];
                        if (isLong) {
                            try {
                                a.longs[m] = a.seen[m] ? Math.addExact(a.longs[m], b.longs[m]) : b.longs[m];
                            } catch (ArithmeticException e) {
                                a.overflow[m] = true;
                            }
                        } else {
                            a.doubles[m] = a.seen[m] ? a.doubles[m] + b.doubles[m] : b.doubles[m];
                        }
                        break;
                    case MIN:
                    case MAX: {
                        boolean min = spec.kinds[m] == Kind.MIN;
                        if (isLong) {
                            if (!a.seen[m] || (min ? b.longs[m] < a.longs[m] : b.longs[m] > a.longs[m])) a.longs[m] = b.longs[m];
                        } else if (!a.seen[m] || (min ? b.doubles[m] < a.doubles[m] : b.doubles[m] > a.doubles[m])) {
                            a.doubles[m] = b.doubles[m];
                        }
                        break;
                    }
                    default:
                        break;
                }
                a.seen[m] = true;
            }
            return a;
        }
    }

    /** The window's row: its bounds, the group values, the measures, in the aggregates table's column order. */
    static final class WindowRow extends ProcessWindowFunction<Acc, RowData, String, TimeWindow> {
        private static final long serialVersionUID = 1L;
        private final Spec spec;

        WindowRow(Spec spec) {
            this.spec = spec;
        }

        @Override
        public void process(String key, Context ctx, Iterable<Acc> accs, Collector<RowData> out) {
            Acc acc = accs.iterator().next();
            GenericRowData row = new GenericRowData(spec.columns.length);
            int g = spec.groups.length;
            for (int i = 0; i < spec.columns.length; i++) {
                int c = spec.columns[i];
                if (c == -1) row.setField(i, TimestampData.fromEpochMillis(ctx.window().getStart()));
                else if (c == -2) row.setField(i, TimestampData.fromEpochMillis(ctx.window().getEnd()));
                else if (c == -3) row.setField(i, null);
                else if (c < g) row.setField(i, spec.groups[c].internal(acc.group[c]));
                else row.setField(i, measure(acc, c - g));
            }
            out.collect(row);
        }

        private Object measure(Acc acc, int m) {
            switch (spec.kinds[m]) {
                case COUNT: return acc.rows;
                case COUNT_DISTINCT: return acc.distinct[m] == null ? 0L : (long) acc.distinct[m].size();
                default:
                    // No value in the window (or a 64-bit overflow of an integer sum): null, as SQL's SUM/MIN/MAX of nothing.
                    if (!acc.seen[m] || acc.overflow[m]) return null;
                    return spec.fields[m].type == Type.TypeID.LONG ? (Object) acc.longs[m] : (Object) acc.doubles[m];
            }
        }
    }

    static final class CountLate extends ProcessFunction<RowData, RowData> {
        private static final long serialVersionUID = 1L;
        private transient Counter late;

        @Override
        public void open(OpenContext openContext) {
            late = JobMetrics.of(getRuntimeContext().getMetricGroup()).counter(JobMetrics.EVENTS_LATE);
        }

        @Override
        public void processElement(RowData row, Context ctx, Collector<RowData> out) {
            late.inc();
        }
    }
}
