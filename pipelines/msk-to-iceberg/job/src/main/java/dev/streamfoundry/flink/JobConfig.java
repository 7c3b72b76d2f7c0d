package dev.streamfoundry.flink;

import com.amazonaws.services.kinesisanalytics.runtime.KinesisAnalyticsRuntime;
import org.apache.flink.util.TimeUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * The job's settings: one flat map of string properties. In Managed Service for Apache Flink they come from the
 * application's runtime properties (property group {@link #PROPERTY_GROUP}); locally, from a JSON file in the same
 * format ({@code --properties-file path}) and/or {@code --key value} arguments, which override the file.
 *
 * <p>Every property name is a constant here, read from the contract file ({@link JobContract}) by which the CDK
 * construct sets them.
 */
public final class JobConfig implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(JobConfig.class);

    /** The runtime-properties group the job reads in Managed Flink. */
    public static final String PROPERTY_GROUP = JobContract.value("propertyGroup");

    // The property names, from the contract file the construct sets them by.
    public static final String BOOTSTRAP_SERVERS = JobContract.property("bootstrapServers");
    public static final String TOPIC = JobContract.property("topic");
    public static final String GROUP_ID = JobContract.property("groupId");
    public static final String AUTH = JobContract.property("auth");
    public static final String STARTING_OFFSETS = JobContract.property("startingOffsets");
    /** Prefix for any extra Kafka consumer setting, e.g. {@code kafka.consumer.fetch.max.wait.ms}. */
    public static final String CONSUMER_PREFIX = "kafka.consumer.";
    public static final String CATALOG_TYPE = JobContract.property("catalogType");
    public static final String WAREHOUSE = JobContract.property("warehouse");
    public static final String DATABASE = JobContract.property("database");
    public static final String TABLE = JobContract.property("table");
    public static final String ERRORS_PATH = JobContract.property("errorsPath");
    /** Optional: where the raw zone is written ({@link RawArchive}); absent, nothing is archived. */
    public static final String RAW_PATH = JobContract.property("rawPath");
    public static final String SOURCE_SCHEMA = JobContract.property("sourceSchema");
    public static final String ID_FIELD = JobContract.property("idField");
    public static final String EVENT_TIME_FIELD = JobContract.property("eventTimeField");
    public static final String DEDUP_TTL = JobContract.property("dedupTtl");
    public static final String CHECKPOINT_INTERVAL = JobContract.property("checkpointInterval");
    public static final String SINK_PARALLELISM = JobContract.property("sinkParallelism");
    /** Optional: the source's processing document (docs/processing-rules.md); absent, no rules. */
    public static final String PROCESSING = JobContract.property("processing");
    /** The aggregates table (same database), when the rules aggregate; default {@code <table>_aggregates}. */
    public static final String AGGREGATES_TABLE = JobContract.property("aggregatesTable");
    /** Secrets Manager ARN of the key of {@code mask … with: hash}; locally {@link HashKey#ENV} instead. */
    public static final String HASH_KEY_SECRET = JobContract.property("hashKeySecret");
    /** Optional: the Kafka topic the processed events are delivered to ({@link DeliveryRecords}); absent, none. */
    public static final String DELIVERY_TOPIC = JobContract.property("deliveryTopic");
    /** The column whose value is the delivery record's key; default {@link #ID_FIELD}'s. */
    public static final String DELIVERY_KEY_FIELD = JobContract.property("deliveryKeyField");
    /**
     * Optional: the root (bucket root in AWS, an {@link #ERRORS_SCHEME} URL) under which the job writes a freshness receipt
     * per committed canary ({@link FreshnessReceipts}); absent, canaries are still kept out of the data, without receipts.
     */
    public static final String FRESHNESS_RECEIPTS_PATH = JobContract.property("freshnessReceiptsPath");
    /** Prefix for any extra Kafka producer setting of the delivery sink, e.g. {@code kafka.producer.linger.ms}. */
    public static final String PRODUCER_PREFIX = "kafka.producer.";

    /**
     * The scheme of {@link #ERRORS_PATH} in AWS: {@code s3a://} is served by Flink's Hadoop S3 file system (flink-s3-fs-hadoop,
     * shaded into this JAR), whose RecoverableWriter the FileSink needs. {@code s3://} may resolve to another S3 file
     * system of the runtime (Presto's has no RecoverableWriter: "This s3 file system implementation does not support
     * recoverable writers", FLINK-24226), and every Managed Flink FileSink example writes to {@code s3a://}.
     */
    public static final String ERRORS_SCHEME = JobContract.value("errorsPathScheme");

    public static final List<String> ALL_KEYS = List.of(BOOTSTRAP_SERVERS, TOPIC, GROUP_ID, AUTH, STARTING_OFFSETS,
            CATALOG_TYPE, WAREHOUSE, DATABASE, TABLE, ERRORS_PATH, RAW_PATH, SOURCE_SCHEMA, ID_FIELD, EVENT_TIME_FIELD, DEDUP_TTL,
            CHECKPOINT_INTERVAL, SINK_PARALLELISM, PROCESSING, AGGREGATES_TABLE, HASH_KEY_SECRET, DELIVERY_TOPIC, DELIVERY_KEY_FIELD,
            FRESHNESS_RECEIPTS_PATH);

    public enum Auth { IAM, NONE }

    public enum CatalogType { GLUE, HADOOP }

    public enum StartingOffsets { EARLIEST, LATEST }

    public static final Duration DEFAULT_DEDUP_TTL = Duration.ofHours(24);

    public final String bootstrapServers;
    public final String topic;
    public final String groupId;
    public final Auth auth;
    public final StartingOffsets startingOffsets;
    public final Map<String, String> consumerProperties;
    public final CatalogType catalogType;
    public final String warehouse;
    public final String database;
    public final String table;
    public final String errorsPath;
    public final Optional<String> rawPath;
    public final String sourceSchema;
    public final String idField;
    public final String eventTimeField;
    public final Duration dedupTtl;
    /** Empty: the job leaves checkpointing to the runtime (Managed Flink's checkpoint configuration). */
    public final Optional<Duration> checkpointInterval;
    public final Optional<Integer> sinkParallelism;
    public final Optional<String> processing;
    public final String aggregatesTable;
    public final Optional<String> hashKeySecret;
    /** Empty: no delivery sink (the job as before). */
    public final Optional<String> deliveryTopic;
    /** The delivery key's column: {@link #DELIVERY_KEY_FIELD}, else {@link #idField}. */
    public final String deliveryKeyField;
    /** {@link #PRODUCER_PREFIX} settings, prefix stripped, applied last to the delivery sink's producer. */
    public final Map<String, String> producerProperties;
    /** Empty: canaries are dropped without receipts. */
    public final Optional<String> freshnessReceiptsPath;

    private JobConfig(Map<String, String> p) {
        List<String> errors = new ArrayList<>();
        this.bootstrapServers = required(p, BOOTSTRAP_SERVERS, errors);
        this.topic = required(p, TOPIC, errors);
        this.sourceSchema = required(p, SOURCE_SCHEMA, errors);
        this.warehouse = required(p, WAREHOUSE, errors);
        this.errorsPath = required(p, ERRORS_PATH, errors);
        this.rawPath = Optional.ofNullable(p.get(RAW_PATH)).map(String::trim).filter(v -> !v.isEmpty());
        this.eventTimeField = required(p, EVENT_TIME_FIELD, errors);
        this.idField = p.getOrDefault(ID_FIELD, "event_id").trim();
        this.database = p.getOrDefault(DATABASE, "stream_foundry").trim();
        String defaultTable = SourceSchema.nameOf(sourceSchema == null ? "events" : sourceSchema);
        this.table = p.getOrDefault(TABLE, defaultTable).trim();
        this.processing = optional(p, PROCESSING);
        this.aggregatesTable = optional(p, AGGREGATES_TABLE).orElse(table + "_aggregates");
        this.hashKeySecret = optional(p, HASH_KEY_SECRET);
        this.groupId = p.getOrDefault(GROUP_ID, "stream-foundry-" + database + "-" + table).trim();
        this.auth = enumValue(p, AUTH, Auth.class, Auth.IAM, errors);
        this.startingOffsets = enumValue(p, STARTING_OFFSETS, StartingOffsets.class, StartingOffsets.EARLIEST, errors);
        this.catalogType = enumValue(p, CATALOG_TYPE, CatalogType.class, CatalogType.GLUE, errors);
        this.dedupTtl = duration(p, DEDUP_TTL, errors).orElse(DEFAULT_DEDUP_TTL);
        this.checkpointInterval = duration(p, CHECKPOINT_INTERVAL, errors);
        Optional<Integer> parallelism = Optional.empty();
        if (p.containsKey(SINK_PARALLELISM)) {
            try {
                int n = Integer.parseInt(p.get(SINK_PARALLELISM).trim());
                if (n < 1) throw new NumberFormatException();
                parallelism = Optional.of(n);
            } catch (NumberFormatException e) {
                errors.add(SINK_PARALLELISM + ": expected a positive integer, got '" + p.get(SINK_PARALLELISM) + "'");
            }
        }
        this.sinkParallelism = parallelism;
        Map<String, String> consumer = new LinkedHashMap<>();
        p.forEach((k, v) -> {
            if (k.startsWith(CONSUMER_PREFIX)) consumer.put(k.substring(CONSUMER_PREFIX.length()), v);
        });
        this.consumerProperties = Collections.unmodifiableMap(consumer);
        this.deliveryTopic = optional(p, DELIVERY_TOPIC);
        this.freshnessReceiptsPath = optional(p, FRESHNESS_RECEIPTS_PATH);
        Optional<String> keyField = optional(p, DELIVERY_KEY_FIELD);
        this.deliveryKeyField = keyField.orElse(idField);
        Map<String, String> producer = new LinkedHashMap<>();
        p.forEach((k, v) -> {
            if (k.startsWith(PRODUCER_PREFIX)) producer.put(k.substring(PRODUCER_PREFIX.length()), v);
        });
        this.producerProperties = Collections.unmodifiableMap(producer);
        deliveryTopic.ifPresent(t -> {
            // Kafka's own rule for topic names (org.apache.kafka.common.internals.Topic.validate).
            if (t.length() > 249 || t.equals(".") || t.equals("..") || !t.matches("[a-zA-Z0-9._-]+")) {
                errors.add(DELIVERY_TOPIC + ": a Kafka topic name (letters, digits, '.', '_', '-', at most 249 characters), got '" + t + "'");
            } else if (t.equals(topic)) {
                errors.add(DELIVERY_TOPIC + ": must differ from " + TOPIC + " ('" + topic + "'): the job would read what it delivers");
            }
        });
        if (deliveryTopic.isEmpty() && keyField.isPresent()) {
            errors.add(DELIVERY_KEY_FIELD + ": set to '" + keyField.get() + "' but " + DELIVERY_TOPIC + " is not: nothing is delivered");
        }
        if (producer.containsKey("transactional.id")) {
            errors.add(PRODUCER_PREFIX + "transactional.id: the delivery sink is at least once, without Kafka transactions");
        }
        if (dedupTtl.isZero() || dedupTtl.isNegative()) errors.add(DEDUP_TTL + ": must be positive, got " + dedupTtl);
        checkpointInterval.ifPresent(d -> {
            if (d.toMillis() < 100) errors.add(CHECKPOINT_INTERVAL + ": must be at least 100 ms, got " + d);
        });
        if (catalogType == CatalogType.GLUE && warehouse != null && !warehouse.startsWith("s3://")) {
            errors.add(WAREHOUSE + ": the Glue catalog needs an s3:// warehouse, got '" + warehouse + "'");
        }
        if (errorsPath != null) checkFileSinkPath(ERRORS_PATH, errorsPath, errors);
        rawPath.ifPresent(path -> checkFileSinkPath(RAW_PATH, path, errors));
        freshnessReceiptsPath.ifPresent(path -> {
            // Written through the same file system as the error files (the S3A one in the JAR), so the same schemes.
            String scheme = schemeOf(path);
            if (scheme != null && !scheme.equals(ERRORS_SCHEME) && !scheme.equals("file")) {
                errors.add(FRESHNESS_RECEIPTS_PATH + ": expected " + ERRORS_SCHEME + "://<bucket> (Flink's Hadoop S3 file system, in the JAR) or a local path, got '" + path + "'");
            }
        });
        if (!database.matches("[a-z0-9_]+")) errors.add(DATABASE + ": lower-case letters, digits and '_' only (Glue names), got '" + database + "'");
        if (!table.matches("[a-z0-9_]+")) errors.add(TABLE + ": lower-case letters, digits and '_' only (Glue names), got '" + table + "'");
        if (!aggregatesTable.matches("[a-z0-9_]+")) {
            errors.add(AGGREGATES_TABLE + ": lower-case letters, digits and '_' only (Glue names), got '" + aggregatesTable + "'");
        } else if (aggregatesTable.equals(table)) {
            errors.add(AGGREGATES_TABLE + ": must differ from " + TABLE + " ('" + table + "')");
        }
        hashKeySecret.ifPresent(arn -> {
            if (!arn.matches("arn:[a-z-]+:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+")) {
                errors.add(HASH_KEY_SECRET + ": expected a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>), got '" + arn + "'");
            }
        });
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException("Invalid job configuration:\n  " + String.join("\n  ", errors));
        }
    }

    /** A FileSink's path (errors, raw zone): {@link #ERRORS_SCHEME} in AWS, or local. */
    private static void checkFileSinkPath(String key, String path, List<String> errors) {
        String scheme = schemeOf(path);
        if (scheme != null && !scheme.equals(ERRORS_SCHEME) && !scheme.equals("file")) {
            errors.add(key + ": the FileSink needs " + ERRORS_SCHEME + ":// (Flink's Hadoop S3 file system, in the JAR) or a local path, got '" + path + "'");
        }
    }

    /** The URI scheme of a Flink path, null for a local path without one, "invalid" when it is no path. */
    private static String schemeOf(String path) {
        try {
            return new org.apache.flink.core.fs.Path(path).toUri().getScheme();
        } catch (IllegalArgumentException e) {
            return "invalid";
        }
    }

    public static JobConfig of(Map<String, String> properties) {
        return new JobConfig(properties);
    }

    /**
     * Managed Flink's runtime properties (group {@link #PROPERTY_GROUP}) when present, else the JSON file named by
     * {@code --properties-file}, then {@code --key value} arguments on top.
     */
    public static JobConfig load(String[] args) throws IOException {
        Map<String, String> argMap = parseArgs(args);
        Map<String, String> merged = new LinkedHashMap<>();
        String file = argMap.remove("properties-file");
        Map<String, Properties> groups;
        if (file != null) {
            LOG.info("Reading job properties from {}", file);
            if (!Files.isReadable(Path.of(file))) throw new IOException("Properties file not readable: " + file);
            groups = KinesisAnalyticsRuntime.getApplicationProperties(file);
        } else {
            groups = KinesisAnalyticsRuntime.getApplicationProperties();
        }
        Properties group = groups == null ? null : groups.get(PROPERTY_GROUP);
        if (group != null) group.forEach((k, v) -> merged.put(k.toString(), v.toString()));
        merged.putAll(argMap);
        LOG.info("Job properties: {}", merged);
        return of(merged);
    }

    static Map<String, String> parseArgs(String[] args) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) throw new IllegalArgumentException("Expected --key value, got '" + a + "'");
            String key = a.substring(2);
            int eq = key.indexOf('=');
            if (eq >= 0) {
                out.put(key.substring(0, eq), key.substring(eq + 1));
            } else {
                if (i + 1 >= args.length) throw new IllegalArgumentException("Missing value for --" + key);
                out.put(key, args[++i]);
            }
        }
        return out;
    }

    /** A trimmed value; blank is the same as absent. */
    private static Optional<String> optional(Map<String, String> p, String key) {
        return Optional.ofNullable(p.get(key)).map(String::trim).filter(v -> !v.isEmpty());
    }

    private static String required(Map<String, String> p, String key, List<String> errors) {
        String v = p.get(key);
        if (v == null || v.isBlank()) {
            errors.add(key + ": required");
            return null;
        }
        return v.trim();
    }

    private static <E extends Enum<E>> E enumValue(Map<String, String> p, String key, Class<E> type, E dflt, List<String> errors) {
        String v = p.get(key);
        if (v == null || v.isBlank()) return dflt;
        try {
            return Enum.valueOf(type, v.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            List<String> allowed = new ArrayList<>();
            for (E c : type.getEnumConstants()) allowed.add(c.name().toLowerCase(Locale.ROOT));
            errors.add(key + ": expected one of " + allowed + ", got '" + v + "'");
            return dflt;
        }
    }

    private static Optional<Duration> duration(Map<String, String> p, String key, List<String> errors) {
        String v = p.get(key);
        if (v == null || v.isBlank()) return Optional.empty();
        try {
            String s = v.trim();
            return Optional.of(s.startsWith("P") || s.startsWith("p") ? Duration.parse(s) : TimeUtils.parseDuration(s));
        } catch (RuntimeException e) {
            errors.add(key + ": expected a duration such as '5 s', '24 h' or 'PT24H', got '" + v + "'");
            return Optional.empty();
        }
    }
}
