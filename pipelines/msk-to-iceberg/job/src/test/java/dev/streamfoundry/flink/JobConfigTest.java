package dev.streamfoundry.flink;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JobConfigTest {
    static Map<String, String> minimal() {
        Map<String, String> p = new HashMap<>();
        p.put(JobConfig.BOOTSTRAP_SERVERS, "b-1.msk:9098");
        p.put(JobConfig.TOPIC, "clickstream");
        p.put(JobConfig.SOURCE_SCHEMA, "clickstream");
        p.put(JobConfig.WAREHOUSE, "s3://lake/warehouse");
        p.put(JobConfig.ERRORS_PATH, "s3a://errors/flink/clickstream");
        p.put(JobConfig.EVENT_TIME_FIELD, "occurred_at");
        return p;
    }

    @Test
    void defaultsForAwsAndAllProblemsReportedAtOnce() {
        JobConfig c = JobConfig.of(minimal());
        assertEquals(JobConfig.Auth.IAM, c.auth);
        assertEquals(JobConfig.CatalogType.GLUE, c.catalogType);
        assertEquals("stream_foundry", c.database);
        assertEquals("clickstream", c.table);
        assertEquals("event_id", c.idField);
        assertEquals(Duration.ofHours(24), c.dedupTtl);
        assertTrue(c.checkpointInterval.isEmpty());
        assertEquals("stream-foundry-stream_foundry-clickstream", c.groupId);
        assertEquals("SASL_SSL", IcebergIngestJob.kafkaSecurity(c.auth).getProperty("security.protocol"));
        assertEquals("AWS_MSK_IAM", IcebergIngestJob.kafkaSecurity(c.auth).getProperty("sasl.mechanism"));

        Map<String, String> bad = minimal();
        bad.remove(JobConfig.TOPIC);
        bad.put(JobConfig.AUTH, "scram");
        bad.put(JobConfig.DEDUP_TTL, "soon");
        bad.put(JobConfig.WAREHOUSE, "/tmp/w");
        bad.put(JobConfig.ERRORS_PATH, "s3://errors/flink/clickstream");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JobConfig.of(bad));
        assertTrue(e.getMessage().contains("kafka.topic: required"), e.getMessage());
        assertTrue(e.getMessage().contains("kafka.auth: expected one of [iam, none], got 'scram'"), e.getMessage());
        assertTrue(e.getMessage().contains("dedup.ttl"), e.getMessage());
        assertTrue(e.getMessage().contains("s3:// warehouse"), e.getMessage());
        assertTrue(e.getMessage().contains("errors.path: the FileSink needs s3a://"), e.getMessage());
    }

    @Test
    void rawPathIsOptionalAndNeedsTheFileSinkScheme() {
        assertTrue(JobConfig.of(minimal()).rawPath.isEmpty(), "no raw.path: no raw archive");
        Map<String, String> p = minimal();
        p.put(JobConfig.RAW_PATH, " s3a://raw-zone/clickstream ");
        assertEquals("s3a://raw-zone/clickstream", JobConfig.of(p).rawPath.orElseThrow());
        p.put(JobConfig.RAW_PATH, "file:///tmp/raw");
        assertEquals("file:///tmp/raw", JobConfig.of(p).rawPath.orElseThrow());
        p.put(JobConfig.RAW_PATH, "");
        assertTrue(JobConfig.of(p).rawPath.isEmpty(), "an empty raw.path is the same as none");
        p.put(JobConfig.RAW_PATH, "s3://raw-zone/clickstream");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JobConfig.of(p));
        assertTrue(e.getMessage().contains("raw.path: the FileSink needs s3a://"), e.getMessage());
        assertTrue(e.getMessage().contains("s3://raw-zone/clickstream"), e.getMessage());
    }

    @Test
    void processingRulesAreOptionalWithTheirAggregatesTableAndHashKeySecret() {
        JobConfig plain = JobConfig.of(minimal());
        assertTrue(plain.processing.isEmpty(), "no source.processing: no rules, the job as before");
        assertTrue(plain.hashKeySecret.isEmpty());
        assertEquals("clickstream_aggregates", plain.aggregatesTable, "default <table>_aggregates");

        Map<String, String> p = minimal();
        p.put(JobConfig.PROCESSING, " schemas/clickstream.processing.json ");
        p.put(JobConfig.AGGREGATES_TABLE, "clicks_per_minute");
        p.put(JobConfig.HASH_KEY_SECRET, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:sf-hash-key-AbCdEf");
        JobConfig c = JobConfig.of(p);
        assertEquals("schemas/clickstream.processing.json", c.processing.orElseThrow());
        assertEquals("clicks_per_minute", c.aggregatesTable);
        assertEquals("arn:aws:secretsmanager:eu-west-1:123456789012:secret:sf-hash-key-AbCdEf", c.hashKeySecret.orElseThrow());
        assertEquals("eu-west-1", HashKey.regionOf(c.hashKeySecret.get()).orElseThrow(), "GetSecretValue in the secret's region");

        p.put(JobConfig.PROCESSING, "");
        assertTrue(JobConfig.of(p).processing.isEmpty(), "an empty source.processing is the same as none");
        p.put(JobConfig.AGGREGATES_TABLE, "Clicks-Agg");
        p.put(JobConfig.HASH_KEY_SECRET, "my-secret");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JobConfig.of(p));
        assertTrue(e.getMessage().contains("catalog.aggregates.table: lower-case letters"), e.getMessage());
        assertTrue(e.getMessage().contains("rules.hash.key.secret: expected a Secrets Manager secret ARN"), e.getMessage());
        p.put(JobConfig.AGGREGATES_TABLE, "clickstream");
        p.remove(JobConfig.HASH_KEY_SECRET);
        e = assertThrows(IllegalArgumentException.class, () -> JobConfig.of(p));
        assertTrue(e.getMessage().contains("catalog.aggregates.table: must differ from catalog.table"), e.getMessage());
    }

    @Test
    void deliveryTopicIsOptionalKeyedByTheIdUnlessToldWithProducerOverrides() {
        JobConfig plain = JobConfig.of(minimal());
        assertTrue(plain.deliveryTopic.isEmpty(), "no delivery.topic: no delivery sink, the job as before");
        assertEquals("event_id", plain.deliveryKeyField, "default: the id field");

        Map<String, String> p = minimal();
        p.put(JobConfig.DELIVERY_TOPIC, " clickstream.delivered ");
        p.put(JobConfig.ID_FIELD, "event_id");
        JobConfig c = JobConfig.of(p);
        assertEquals("clickstream.delivered", c.deliveryTopic.orElseThrow());
        assertEquals("event_id", c.deliveryKeyField);
        p.put(JobConfig.DELIVERY_KEY_FIELD, " user_id ");
        p.put(JobConfig.PRODUCER_PREFIX + "linger.ms", "20");
        p.put(JobConfig.PRODUCER_PREFIX + "compression.type", "zstd");
        c = JobConfig.of(p);
        assertEquals("user_id", c.deliveryKeyField);
        assertEquals(Map.of("linger.ms", "20", "compression.type", "zstd"), c.producerProperties);

        // The producer: the source's IAM settings, acks=all, idempotence, lz4 unless overridden.
        java.util.Properties producer = IcebergIngestJob.producerProperties(JobConfig.of(minimal()));
        assertEquals("all", producer.getProperty("acks"));
        assertEquals("true", producer.getProperty("enable.idempotence"));
        assertEquals("lz4", producer.getProperty("compression.type"));
        assertEquals("AWS_MSK_IAM", producer.getProperty("sasl.mechanism"));
        assertEquals("software.amazon.msk.auth.iam.IAMClientCallbackHandler", producer.getProperty("sasl.client.callback.handler.class"));
        producer = IcebergIngestJob.producerProperties(c);
        assertEquals("zstd", producer.getProperty("compression.type"), "kafka.producer.* last");
        assertEquals("20", producer.getProperty("linger.ms"));

        p.put(JobConfig.DELIVERY_TOPIC, "");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JobConfig.of(p));
        assertTrue(e.getMessage().contains("delivery.key.field: set to 'user_id' but delivery.topic is not"), e.getMessage());
        p.put(JobConfig.DELIVERY_TOPIC, "clicks for customers");
        p.put(JobConfig.PRODUCER_PREFIX + "transactional.id", "x");
        e = assertThrows(IllegalArgumentException.class, () -> JobConfig.of(p));
        assertTrue(e.getMessage().contains("delivery.topic: a Kafka topic name (letters, digits, '.', '_', '-', at most 249 characters), got 'clicks for customers'"), e.getMessage());
        assertTrue(e.getMessage().contains("kafka.producer.transactional.id: the delivery sink is at least once"), e.getMessage());
        p.remove(JobConfig.PRODUCER_PREFIX + "transactional.id");
        p.put(JobConfig.DELIVERY_TOPIC, "x".repeat(250));
        e = assertThrows(IllegalArgumentException.class, () -> JobConfig.of(p));
        assertTrue(e.getMessage().contains("delivery.topic: a Kafka topic name"), e.getMessage());
        p.put(JobConfig.DELIVERY_TOPIC, "..");
        e = assertThrows(IllegalArgumentException.class, () -> JobConfig.of(p));
        assertTrue(e.getMessage().contains("delivery.topic: a Kafka topic name"), e.getMessage());
        p.put(JobConfig.DELIVERY_TOPIC, "clickstream");
        e = assertThrows(IllegalArgumentException.class, () -> JobConfig.of(p));
        assertTrue(e.getMessage().contains("delivery.topic: must differ from kafka.topic ('clickstream')"), e.getMessage());
    }

    /** The property group exactly as the construct deploys it (the fixture the construct test keeps equal to the template). */
    @Test
    void acceptsTheDeployedApplicationProperties() throws Exception {
        Path deployed = Path.of("src/test/resources/deployed-application-properties.json");
        JobConfig c = JobConfig.load(new String[] {"--properties-file", deployed.toString()});
        assertEquals(JobConfig.Auth.IAM, c.auth);
        assertEquals(JobConfig.CatalogType.GLUE, c.catalogType);
        assertEquals(JobConfig.StartingOffsets.EARLIEST, c.startingOffsets);
        assertEquals("orders", c.table);
        assertTrue(c.errorsPath.startsWith(JobConfig.ERRORS_SCHEME + "://"), c.errorsPath);
        assertTrue(c.rawPath.orElseThrow().startsWith(JobConfig.ERRORS_SCHEME + "://"), "the raw zone's FileSink path, like the errors path");
        assertTrue(c.checkpointInterval.isEmpty(), "checkpointing is Managed Flink's CUSTOM checkpoint configuration");
        assertTrue(c.freshnessReceiptsPath.orElseThrow().matches(JobConfig.ERRORS_SCHEME + "://[a-z0-9.-]+"),
                "receipts at a bucket's root, through the error files' file system: " + c.freshnessReceiptsPath);
        // The schema the construct names is one the JAR carries.
        SourceSchema.load(c.sourceSchema);
    }

    @Test
    void localRunReadsTheManagedFlinkPropertiesFileFormatAndArgsOverride() throws Exception {
        Path f = Files.createTempFile("props", ".json");
        Files.writeString(f, "[{\"PropertyGroupId\":\"job\",\"PropertyMap\":{"
                + "\"kafka.bootstrap.servers\":\"localhost:9092\",\"kafka.topic\":\"t\",\"kafka.auth\":\"none\","
                + "\"source.schema\":\"orders\",\"source.event.time.field\":\"updated_at\",\"catalog.type\":\"hadoop\","
                + "\"catalog.warehouse\":\"/tmp/wh\",\"errors.path\":\"/tmp/err\",\"dedup.ttl\":\"2 h\",\"kafka.consumer.fetch.max.wait.ms\":\"100\"}}]");
        JobConfig c = JobConfig.load(new String[] {"--properties-file", f.toString(), "--checkpoint.interval", "5 s", "--catalog.table=orders_v2"});
        assertEquals(JobConfig.Auth.NONE, c.auth);
        assertEquals(JobConfig.CatalogType.HADOOP, c.catalogType);
        assertEquals(Duration.ofHours(2), c.dedupTtl);
        assertEquals(Duration.ofSeconds(5), c.checkpointInterval.orElseThrow());
        assertEquals("orders_v2", c.table);
        assertEquals("100", c.consumerProperties.get("fetch.max.wait.ms"));

        // Outside Managed Flink and without a file (no /etc/flink/application_properties.json): arguments alone.
        JobConfig fromArgs = JobConfig.load(new String[] {"--kafka.bootstrap.servers", "k:9092", "--kafka.topic", "t",
                "--source.schema", "orders", "--source.event.time.field", "updated_at", "--catalog.warehouse", "s3://w/h",
                "--errors.path", "s3a://e/x"});
        assertEquals("orders", fromArgs.table);
        assertEquals(JobConfig.CatalogType.GLUE, fromArgs.catalogType);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JobConfig.load(new String[] {"--kafka.topic"}));
        assertTrue(e.getMessage().contains("Missing value for --kafka.topic"), e.getMessage());
    }
}
