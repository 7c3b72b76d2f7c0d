package dev.streamfoundry.flink;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.table.data.RowData;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.time.Instant;
import java.util.Base64;

/**
 * Parses each record with the source's schema. Valid events go on as rows; a malformed record goes to the
 * {@link #ERRORS} side output as one JSON line: {@code reason}, the {@code raw} value (or {@code raw_base64} when it
 * is not UTF-8), and its Kafka coordinates. With processing rules, an event a filter removes is counted
 * ({@code eventsFiltered}) and not emitted, and one a rule cannot evaluate goes to {@link #ERRORS} with
 * {@code rule <name>: <why>} as its reason. A freshness canary (recognised by its id once it passed the schema, before
 * the rules) goes to {@link #CANARIES} and is counted in {@code canaries}, never emitted as a row.
 */
public class ParseEvents extends ProcessFunction<RawRecord, RowData> {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    public static final OutputTag<String> ERRORS = new OutputTag<>("malformed", Types.STRING);
    /** Freshness canaries (platform/freshness): never emitted as rows, so never in the table, aggregates or delivery topic. */
    public static final OutputTag<Canary> CANARIES = new OutputTag<>("freshness-canaries", TypeInformation.of(Canary.class));
    private final SourceSchema schema;
    /** Null: no processing rules (the source schema's rows, as before rules existed). */
    private final Processing processing;
    private final String hashKeySecret;
    /** The columns of the rows (the events table's); null: the source schema's, or the output schema's with rules. */
    private final org.apache.iceberg.Schema rowSchema;
    /** The source's id field, whose value marks a canary; null: canaries are not recognised (tests of parsing alone). */
    private final String idField;
    private final String source;
    private transient EventParser parser;
    private transient Counter in;
    private transient Counter valid;
    private transient Counter malformed;
    private transient Counter filtered;
    private transient Counter canaries;

    public ParseEvents(SourceSchema schema) {
        this(schema, null, null);
    }

    /** With processing rules; {@code hashKeySecret}: the Secrets Manager ARN of the hash key, or null (then {@link HashKey#ENV}). */
    public ParseEvents(SourceSchema schema, Processing processing, String hashKeySecret) {
        this(schema, processing, hashKeySecret, null);
    }

    /** ... writing rows of {@code rowSchema} (the table's columns, which rules may have evolved). */
    public ParseEvents(SourceSchema schema, Processing processing, String hashKeySecret, org.apache.iceberg.Schema rowSchema) {
        this(schema, processing, hashKeySecret, rowSchema, null, null);
    }

    /**
     * ... sending events whose {@code idField} holds a canary id to {@link #CANARIES} instead of the rows, as canaries of
     * {@code source} (the configured source name, {@code source.schema}).
     */
    public ParseEvents(SourceSchema schema, Processing processing, String hashKeySecret, org.apache.iceberg.Schema rowSchema,
                       String idField, String source) {
        this.schema = schema;
        this.processing = processing;
        this.hashKeySecret = hashKeySecret;
        this.rowSchema = rowSchema;
        this.idField = idField;
        this.source = source;
    }

    @Override
    public void open(OpenContext openContext) {
        byte[] hashKey = null;
        if (processing != null && processing.needsHashKey()) {
            // Once per task, at start: GetSecretValue (aws-requests.md), not per event.
            hashKey = HashKey.resolve(java.util.Optional.ofNullable(hashKeySecret));
            if (hashKey == null) {
                throw new IllegalStateException("A rule of " + processing.source + " masks with a keyed hash: set "
                        + JobConfig.HASH_KEY_SECRET + " (a Secrets Manager secret) or, locally, the environment variable " + HashKey.ENV);
            }
        }
        parser = new EventParser(schema, processing, hashKey, rowSchema, idField, source);
        MetricGroup metrics = JobMetrics.of(getRuntimeContext().getMetricGroup());
        in = metrics.counter(JobMetrics.EVENTS_IN);
        metrics.meter(JobMetrics.EVENTS_IN_PER_SECOND, new MeterView(in, JobMetrics.RATE_SECONDS));
        valid = metrics.counter(JobMetrics.EVENTS_VALID);
        malformed = metrics.counter(JobMetrics.EVENTS_MALFORMED);
        metrics.meter(JobMetrics.EVENTS_MALFORMED_PER_SECOND, new MeterView(malformed, JobMetrics.RATE_SECONDS));
        filtered = metrics.counter(JobMetrics.EVENTS_FILTERED);
        canaries = metrics.counter(JobMetrics.CANARIES);
    }

    @Override
    public void processElement(RawRecord r, Context ctx, Collector<RowData> out) {
        EventParser.Result result = parser.parse(r.value);
        // eventsIn (and its rate, the no-data alarm's metric) counts what publishers sent: canaries are counted apart.
        if (!result.isCanary()) in.inc();
        if (result.ok()) {
            valid.inc();
            out.collect(result.row);
        } else if (result.isCanary()) {
            canaries.inc(); // not business data: not in eventsIn or eventsValid, never a row
            ctx.output(CANARIES, result.canary);
        } else if (result.filtered()) {
            valid.inc();
            filtered.inc(); // removed by a filter rule: counted, not an error
        } else {
            malformed.inc();
            ctx.output(ERRORS, errorLine(schema.name(), r, result.reason));
        }
    }

    static String errorLine(String source, RawRecord r, String reason) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("reason", reason);
        n.put("source", source);
        String text = EventParser.utf8OrNull(r.value);
        if (r.value == null) n.putNull("raw");
        else if (text != null) n.put("raw", text);
        else n.put("raw_base64", Base64.getEncoder().encodeToString(r.value));
        n.put("topic", r.topic);
        n.put("partition", r.partition);
        n.put("offset", r.offset);
        n.put("kafka_timestamp", r.timestamp < 0 ? null : Instant.ofEpochMilli(r.timestamp).toString());
        n.put("rejected_at", Instant.now().toString());
        return n.toString();
    }
}
