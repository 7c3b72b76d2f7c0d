package dev.streamfoundry.flink;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.serialization.SimpleStringEncoder;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.filesystem.OutputFileConfig;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.DateTimeBucketAssigner;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.OnCheckpointRollingPolicy;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.flink.table.types.logical.RowType;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.flink.CatalogLoader;
import org.apache.iceberg.flink.FlinkSchemaUtil;
import org.apache.iceberg.flink.sink.FlinkSink;
import org.apache.iceberg.types.Type;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.ZoneOffset;
import java.util.Properties;

/**
 * Pipeline 5's job: Kafka (MSK, IAM auth) -> parse with the source's JSON Schema -> processing rules when configured
 * (filters, transforms; {@link RuleEngine}) -> deduplicate by event id (keyed state with TTL) -> Iceberg table (Glue catalog, S3), committed on checkpoints, exactly once, and
 * (when {@code delivery.topic} is set) the same events to a Kafka delivery topic, at least once; malformed records ->
 * JSON lines under the error path, with the reason; freshness canaries -> kept out of all of it, a receipt each under
 * {@code freshness.receipts.path} once their checkpoint (the Iceberg commit's trigger) completes.
 */
public final class IcebergIngestJob {
    private static final Logger LOG = LoggerFactory.getLogger(IcebergIngestJob.class);

    public static final String UID_SOURCE = "kafka-source";
    public static final String UID_PARSE = "parse";
    public static final String UID_DEDUP = "dedup";
    public static final String UID_SINK_PREFIX = "iceberg";
    public static final String UID_ERRORS = "error-sink";
    public static final String UID_RAW = "raw-archive";
    public static final String UID_AGGREGATES_SINK_PREFIX = "iceberg-aggregates";
    /**
     * The delivery topic's KafkaSink (when {@code delivery.topic} is set). Its writer keeps a small state in checkpoints
     * even at least once (the sink's transactional-id prefix), so removing the sink later needs a restore that allows
     * non-restored state.
     */
    public static final String UID_DELIVERY = "delivery-sink";
    /**
     * The freshness receipts operator ({@link FreshnessReceipts}): always in the job, with or without
     * {@code freshness.receipts.path}, so changing that setting keeps the savepoint's operators; its state is the
     * canaries awaiting their checkpoint's completion.
     */
    public static final String UID_FRESHNESS = "freshness-receipts";
    /** The aggregates table's window column (docs/processing-rules.md); the table is partitioned by its day. */
    static final String AGGREGATE_WINDOW_START = "window_start";

    private IcebergIngestJob() {
    }

    public static void main(String[] args) throws Exception {
        JobConfig cfg = JobConfig.load(args);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        build(env, cfg);
        env.execute("stream-foundry: " + cfg.topic + " -> iceberg " + cfg.database + "." + cfg.table);
    }

    /** Adds the pipeline to {@code env} (tests and the latency bench call this on a mini cluster). */
    public static void build(StreamExecutionEnvironment env, JobConfig cfg) {
        cfg.checkpointInterval.ifPresent(interval -> {
            env.enableCheckpointing(interval.toMillis(), CheckpointingMode.EXACTLY_ONCE);
            env.getCheckpointConfig().setMinPauseBetweenCheckpoints(Math.min(1000, interval.toMillis() / 2));
        });
        if (!env.getCheckpointConfig().isCheckpointingEnabled()) {
            LOG.error("Checkpointing is off: Iceberg commits and Kafka offset commits happen only on checkpoints, so nothing "
                    + "will be committed. Turn it on (Managed Flink: CheckpointConfiguration; locally: {}).", JobConfig.CHECKPOINT_INTERVAL);
        }

        SourceSchema schema = SourceSchema.load(cfg.sourceSchema);
        // With processing rules the table has the output schema (after the transforms); events are still validated
        // against the source schema first (docs/processing-rules.md).
        Processing processing = cfg.processing.map(Processing::load).orElse(null);
        if (processing != null) checkProcessing(processing, cfg);
        SourceSchema tableSchema = processing == null ? schema : processing.outputSchema();
        PartitionSpec spec = tableSchema.partitionSpec(cfg.eventTimeField);

        CatalogLoader catalog = IcebergTables.catalogLoader(cfg);
        TableIdentifier tableId = IcebergTables.identifier(cfg);
        // The table follows the schema in this package: a changed source schema (a new optional property) or changed
        // rules evolve it here, at start, before the restore from the update's snapshot (IcebergTables.Evolution).
        Table table = IcebergTables.ensureTable(catalog, tableId, tableSchema.iceberg(), spec,
                processing != null ? IcebergTables.Evolution.RULES : IcebergTables.Evolution.SOURCE);
        RowType rowType = FlinkSchemaUtil.convert(table.schema());
        // Positions in the table's columns (the rows' layout), which an evolved table may order differently.
        SourceSchema written = SourceSchema.fromIceberg(tableSchema.name(), table.schema());
        int idPos = written.idPosition(cfg.idField);
        boolean idIsString = table.schema().columns().get(idPos).type().typeId() == Type.TypeID.STRING;

        DataStream<RawRecord> raw = env
                .fromSource(kafkaSource(cfg), WatermarkStrategy.noWatermarks(), "Kafka " + cfg.topic)
                .uid(UID_SOURCE);
        // The raw zone: every record as it arrived, before parsing (RawArchive).
        cfg.rawPath.ifPresent(path -> raw.sinkTo(RawArchive.sink(path)).uid(UID_RAW).name("Raw records -> " + path));

        SingleOutputStreamOperator<RowData> parsed = raw
                .process(new ParseEvents(schema, processing, cfg.hashKeySecret.orElse(null), table.schema(), cfg.idField, cfg.sourceSchema), InternalTypeInfo.of(rowType))
                .uid(UID_PARSE).name("Parse " + schema.name());

        DataStream<RowData> unique = parsed
                .keyBy(new DeduplicateById.IdKey(idPos, idIsString))
                .process(new DeduplicateById(cfg.dedupTtl), InternalTypeInfo.of(rowType))
                .uid(UID_DEDUP).name("Deduplicate by " + cfg.idField);

        FlinkSink.Builder sink = FlinkSink.forRowData(unique)
                .tableLoader(IcebergTables.tableLoader(catalog, tableId))
                .uidPrefix(UID_SINK_PREFIX);
        cfg.sinkParallelism.ifPresent(sink::writeParallelism);
        sink.append();

        // The same deduplicated rows to the customers' delivery topic (DeliveryRecords), at least once.
        cfg.deliveryTopic.ifPresent(topic -> unique
                .sinkTo(deliverySink(cfg, new DeliveryRecords(topic, table.schema(), tableSchema.iceberg(), cfg.idField, cfg.deliveryKeyField)))
                .uid(UID_DELIVERY).name("Delivery -> " + topic));

        if (processing != null && processing.hasAggregate()) {
            // Aggregates of the transformed, deduplicated events -> a second Iceberg table in the same database.
            Schema aggSchema = processing.aggregateSchema().iceberg();
            TableIdentifier aggId = TableIdentifier.of(Namespace.of(cfg.database), cfg.aggregatesTable);
            Table aggTable = IcebergTables.ensureTable(catalog, aggId, aggSchema,
                    PartitionSpec.builderFor(aggSchema).day(AGGREGATE_WINDOW_START, AGGREGATE_WINDOW_START + "_day").build(), true);
            DataStream<RowData> aggregates = WindowAggregates.attach(unique, processing.rules().get("aggregate"), table.schema(),
                    cfg.eventTimeField, aggTable.schema());
            FlinkSink.Builder aggSink = FlinkSink.forRowData(aggregates)
                    .tableLoader(IcebergTables.tableLoader(catalog, aggId))
                    .uidPrefix(UID_AGGREGATES_SINK_PREFIX);
            cfg.sinkParallelism.ifPresent(aggSink::writeParallelism);
            aggSink.append();
        }

        // Freshness canaries never reach the rows above; a receipt each once their checkpoint completes (the Iceberg
        // commit's trigger). Without checkpoints nothing commits, so nothing would be receipted either.
        String receipts = env.getCheckpointConfig().isCheckpointingEnabled() ? cfg.freshnessReceiptsPath.orElse(null) : null;
        parsed.getSideOutput(ParseEvents.CANARIES)
                .process(new FreshnessReceipts(receipts), Types.VOID)
                .uid(UID_FRESHNESS).name(receipts == null ? "Freshness canaries (no receipts)" : "Freshness receipts -> " + receipts)
                .setParallelism(1);

        parsed.getSideOutput(ParseEvents.ERRORS)
                .sinkTo(errorSink(cfg))
                .uid(UID_ERRORS).name("Malformed records -> " + cfg.errorsPath);
    }

    /** The processing document is synth's for this source: the same id and event-time fields as the job's settings. */
    static void checkProcessing(Processing p, JobConfig cfg) {
        if (!p.idField.equals(cfg.idField) || !p.eventTimeField.equals(cfg.eventTimeField)) {
            throw new IllegalArgumentException(JobConfig.PROCESSING + " '" + cfg.processing.orElse("") + "' is for idField '" + p.idField
                    + "' and eventTimeField '" + p.eventTimeField + "', the job has " + JobConfig.ID_FIELD + " '" + cfg.idField + "' and "
                    + JobConfig.EVENT_TIME_FIELD + " '" + cfg.eventTimeField + "'");
        }
    }

    static KafkaSource<RawRecord> kafkaSource(JobConfig cfg) {
        Properties props = new Properties();
        props.putAll(kafkaSecurity(cfg.auth));
        props.putAll(cfg.consumerProperties);
        OffsetResetStrategy reset = cfg.startingOffsets == JobConfig.StartingOffsets.EARLIEST
                ? OffsetResetStrategy.EARLIEST : OffsetResetStrategy.LATEST;
        return KafkaSource.<RawRecord>builder()
                .setBootstrapServers(cfg.bootstrapServers)
                .setTopics(cfg.topic)
                .setGroupId(cfg.groupId)
                // Resume from the group's committed offsets (committed on checkpoints); on a restore the checkpoint's offsets win.
                .setStartingOffsets(OffsetsInitializer.committedOffsets(reset))
                .setDeserializer(new RawRecord.Deserializer())
                .setProperties(props)
                .build();
    }

    /**
     * The delivery topic's sink, {@link DeliveryGuarantee#AT_LEAST_ONCE}: records are sent as they come and every
     * checkpoint waits until the broker has acknowledged all of them (a failed send fails the checkpoint), so nothing
     * the table commits is missing from the topic; after a failure, the events since the last checkpoint are sent
     * again (same event id). Not EXACTLY_ONCE: Kafka transactions would need transaction.timeout.ms within the broker's
     * transaction.max.timeout.ms (15 min by default, against the connector's 1 h default, FLINK-30419), consumers that
     * read with isolation.level=read_committed (others would see aborted records), and IAM actions on transactional
     * ids; and they are not verified on MSK Serverless. The event id makes duplicates detectable instead.
     */
    static KafkaSink<RowData> deliverySink(JobConfig cfg, DeliveryRecords records) {
        return KafkaSink.<RowData>builder()
                .setKafkaProducerConfig(producerProperties(cfg))
                .setBootstrapServers(cfg.bootstrapServers)
                .setRecordSerializer(records)
                .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                .build();
    }

    /**
     * The delivery producer: the source's IAM settings; acks=all and idempotence (a retried batch is not written twice
     * or out of order; on MSK IAM this needs kafka-cluster:WriteDataIdempotently on the cluster); lz4 compression; then
     * the {@code kafka.producer.*} overrides.
     */
    static Properties producerProperties(JobConfig cfg) {
        Properties p = new Properties();
        p.putAll(kafkaSecurity(cfg.auth));
        p.setProperty(ProducerConfig.ACKS_CONFIG, "all");
        p.setProperty(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.setProperty(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.putAll(cfg.producerProperties);
        return p;
    }

    /** Client settings for MSK IAM access control (port 9098), signed with the application role's credentials. */
    static Properties kafkaSecurity(JobConfig.Auth auth) {
        Properties p = new Properties();
        if (auth == JobConfig.Auth.IAM) {
            p.setProperty("security.protocol", "SASL_SSL");
            p.setProperty("sasl.mechanism", "AWS_MSK_IAM");
            p.setProperty("sasl.jaas.config", "software.amazon.msk.auth.iam.IAMLoginModule required;");
            p.setProperty("sasl.client.callback.handler.class", "software.amazon.msk.auth.iam.IAMClientCallbackHandler");
        }
        return p;
    }

    /** JSON lines under {@code <errors.path>/dt=YYYY-MM-DD/}, files finished on each checkpoint (exactly once). */
    static FileSink<String> errorSink(JobConfig cfg) {
        return FileSink.forRowFormat(new Path(cfg.errorsPath), new SimpleStringEncoder<String>("UTF-8"))
                .withBucketAssigner(new DateTimeBucketAssigner<>("'dt='yyyy-MM-dd", ZoneOffset.UTC))
                .withRollingPolicy(OnCheckpointRollingPolicy.build())
                .withOutputFileConfig(OutputFileConfig.builder().withPartPrefix("malformed").withPartSuffix(".jsonl").build())
                .build();
    }
}
