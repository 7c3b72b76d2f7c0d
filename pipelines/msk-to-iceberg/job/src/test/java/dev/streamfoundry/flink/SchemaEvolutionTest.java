package dev.streamfoundry.flink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 19, additive schema evolution on pipeline 5: the orders schema gains an optional top-level property
 * ({@code coupon_code}) while events flow. The schema is inside the application package (the pom copies
 * {@code schemas/*.schema.json} into the JAR; the construct sets {@code source.schema=orders}), so a schema change is a
 * new JAR, which Managed Flink applies by snapshot, stop, and a restart of the new code from that snapshot. This test
 * runs exactly that on a mini cluster with the deployed runtime properties: the v1 package, stop with a savepoint,
 * events in flight, the v2 package restored from that savepoint, then the v1 package again (a rollback).
 */
class SchemaEvolutionTest {
    private static final Duration CHECKPOINT = Duration.ofSeconds(1);
    private static final Duration TIMEOUT = Duration.ofMinutes(3);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String COUPON = "coupon_code";
    private static final String[] STATUSES = {"created", "paid", "shipped", "delivered", "cancelled", "refunded"};
    private static EmbeddedKafka kafka;

    @TempDir
    static Path dir;

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = EmbeddedKafka.start();
    }

    @AfterAll
    static void stopKafka() throws Exception {
        if (kafka != null) kafka.close();
    }

    @Test
    void anOptionalPropertyAddedToOrdersReachesTheIcebergTableAtTheRestartFromTheUpdatesSnapshotWithoutLossOrDuplicates() throws Exception {
        long t0 = System.nanoTime();
        String topic = "orders";
        kafka.createTopic(topic, 2);
        Path base = dir.resolve("evolution");
        Path checkpoints = base.resolve("checkpoints");
        String[] args = localArgs(base);
        JobConfig cfg = JobConfig.load(args); // to read the table and the error files back
        assertEquals("orders", cfg.sourceSchema, "the deployed properties name the source; its schema is the JAR's");

        // v1: the schema the pom copied into the job's classes (target/classes/schemas/orders.schema.json) is the
        // repository's. v2: v1 plus one optional top-level property, not required (deep copy + add).
        String v1 = Files.readString(Path.of("../../../schemas/orders.schema.json"));
        assertEquals(JSON.readTree(v1), JSON.readTree(Files.readString(Path.of("target/classes/schemas/orders.schema.json"))),
                "the v1 package carries the repository's orders schema");
        ObjectNode v2Tree = (ObjectNode) JSON.readTree(v1).deepCopy();
        ((ObjectNode) v2Tree.get("properties")).putObject(COUPON).put("type", "string");
        String v2 = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(v2Tree);
        assertFalse(v2Tree.get("required").toString().contains(COUPON));
        ApplicationPackage packageV1 = ApplicationPackage.of(base.resolve("package-v1"), null);
        ApplicationPackage packageV2 = ApplicationPackage.of(base.resolve("package-v2"), v2);

        Map<String, String> expected = new LinkedHashMap<>(); // event id -> coupon_code (null: none)
        Instant at = Instant.parse("2026-11-22T08:00:00Z");
        int n = 0;

        // 1. The v1 job: the schema's samples and more v1 events, committed by checkpoints.
        List<byte[]> phase1 = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("../../../schemas/orders.samples.ndjson"))) {
            if (line.isBlank()) continue;
            phase1.add(line.getBytes(StandardCharsets.UTF_8));
            expected.put(JSON.readTree(line).get("event_id").asText(), null);
        }
        while (phase1.size() < 100) phase1.add(order(expected, at.plusSeconds(n), n++, null));
        kafka.send(topic, phase1);
        JobClient first = start(packageV1, args, checkpoints, null, new Configuration());
        long startedV1 = System.nanoTime();
        String savepoint1 = null;
        String rejected;
        try {
            LocalJob.await("the v1 events committed", first, TIMEOUT, () -> LocalJob.committedCount(cfg) >= 100);
            log("v1 job: 100 events committed %d ms after submission", ms(startedV1));

            // A v2 event reaching the job still on v1 (what BACKWARD's deploy order prevents): the closed v1 schema
            // rejects the unknown property; the event goes to the error files with the reason, not silently trimmed.
            Map<String, String> early = new HashMap<>();
            byte[] early2 = order(early, at.plusSeconds(500), 500, "EARLY10");
            rejected = early.keySet().iterator().next();
            kafka.send(topic, List.of(early2));
            LocalJob.await("the v2 event rejected by the v1 job", first, TIMEOUT, () -> !LocalJob.errorLines(cfg).isEmpty());

            // 2. The update: Managed Flink snapshots and stops the job (a savepoint, whose checkpoint commits).
            long stopping = System.nanoTime();
            savepoint1 = first.stopWithSavepoint(false, base.resolve("savepoints").toUri().toString(), SavepointFormatType.CANONICAL).get();
            log("v1 job stopped with a savepoint in %d ms", ms(stopping));
        } finally {
            if (savepoint1 == null) first.cancel().get();
        }
        assertEquals(100, LocalJob.committedCount(cfg), "the v2 event is not in the table");
        List<JsonNode> errors = errorRecords(cfg);
        assertEquals(1, errors.size(), "the v2 event once in the error files: " + errors);
        String reason = errors.get(0).get("reason").asText();
        assertTrue(reason.startsWith("schema violation") && reason.contains(COUPON) && reason.contains("additional properties"), reason);
        assertEquals(rejected, JSON.readTree(errors.get(0).get("raw").asText()).get("event_id").asText(), "the raw event is kept for a replay");
        log("a v2 event on the v1 job -> error files: %s", reason);
        Table table = LocalJob.table(cfg);
        int v1SchemaId = table.schema().schemaId();
        assertNull(table.schema().findField(COUPON));

        // While the application is down: v1 events in flight.
        List<byte[]> inFlight = new ArrayList<>();
        for (int i = 0; i < 50; i++) inFlight.add(order(expected, at.plusSeconds(1000 + n), n++, null));
        kafka.send(topic, inFlight);

        // 3. The new package, from the update's savepoint: the table evolves at start, the state (offsets, dedup ids,
        // pending commits) is restored.
        InMemoryReporter reporter = InMemoryReporter.createWithRetainedMetrics(); // read after the stop
        long restarting = System.nanoTime();
        JobClient second = start(packageV2, args, checkpoints, savepoint1, reporter.addToConfiguration(new Configuration()));
        String savepoint2 = null;
        try {
            LocalJob.await("the in-flight v1 events committed by the v2 job", second, TIMEOUT, () -> LocalJob.committedCount(cfg) >= 150);
            log("v2 job from the savepoint: the 50 in-flight events committed %d ms after submission", ms(restarting));
            List<byte[]> phase2 = new ArrayList<>();
            for (int i = 0; i < 30; i++) phase2.add(order(expected, at.plusSeconds(2000 + n), n++, "SAVE" + i));
            for (int i = 0; i < 20; i++) phase2.add(order(expected, at.plusSeconds(2000 + n), n++, null));
            // Duplicates of ids committed before the update (their dedup state is only in the savepoint): five exact
            // redeliveries and one with the new property set.
            for (int i = 3; i < 8; i++) phase2.add(phase1.get(i));
            ObjectNode dup = (ObjectNode) JSON.readTree(phase1.get(10));
            dup.put(COUPON, "DUP");
            phase2.add(dup.toString().getBytes(StandardCharsets.UTF_8));
            // The event the v1 job rejected, replayed from the error files after the update: accepted now.
            phase2.add(errors.get(0).get("raw").asText().getBytes(StandardCharsets.UTF_8));
            expected.put(rejected, "EARLY10");
            kafka.send(topic, phase2);
            LocalJob.await("every event of v1 and v2", second, TIMEOUT, () -> LocalJob.committedCount(cfg) >= expected.size());
            Thread.sleep(3 * CHECKPOINT.toMillis()); // more checkpoints: nothing more may arrive
            savepoint2 = second.stopWithSavepoint(false, base.resolve("savepoints").toUri().toString(), SavepointFormatType.CANONICAL).get();
        } finally {
            if (savepoint2 == null) second.cancel().get();
        }
        assertEquals(6, metric(reporter, second, JobMetrics.DUPLICATES_DROPPED), "the six redeliveries dropped by the restored dedup state");
        assertEquals(0, metric(reporter, second, JobMetrics.EVENTS_MALFORMED), "the v2 job rejects nothing");
        assertRows(cfg, expected);

        table = LocalJob.table(cfg);
        Types.NestedField coupon = table.schema().findField(COUPON);
        assertNotNull(coupon, "the new column: " + table.schema());
        assertTrue(coupon.isOptional(), "nullable: the rows written before have none");
        assertEquals(Types.StringType.get(), coupon.type());
        assertEquals(2, table.schemas().size(), "the schema history: v1, then v2");
        int v2SchemaId = table.schema().schemaId();
        assertTrue(v2SchemaId != v1SchemaId);
        assertNull(table.schemas().get(v1SchemaId).findField(COUPON), "v1 kept in the history");
        // The snapshots written before the update carry v1's schema id, those after it v2's, in that order.
        List<Integer> snapshotSchemas = StreamSupport.stream(table.snapshots().spliterator(), false)
                .sorted((a, b) -> Long.compare(a.sequenceNumber(), b.sequenceNumber())).map(Snapshot::schemaId).collect(Collectors.toList());
        int firstV2 = snapshotSchemas.indexOf(v2SchemaId);
        assertTrue(firstV2 > 0 && snapshotSchemas.subList(0, firstV2).stream().allMatch(id -> id == v1SchemaId)
                && snapshotSchemas.subList(firstV2, snapshotSchemas.size()).stream().allMatch(id -> id == v2SchemaId), snapshotSchemas.toString());
        assertEquals(1, LocalJob.errorLines(cfg).size(), "no new error record");
        log("v2 table: %d rows, schemas %s, snapshots by schema id %s", LocalJob.committedCount(cfg), table.schemas().keySet(), snapshotSchemas);

        // 4. A rollback (Managed Flink's, or CloudFormation's): the v1 package from the last snapshot, on the evolved
        // table. It starts, writes the column it does not know as null, and leaves the table's schema as it is.
        List<byte[]> phase3 = new ArrayList<>();
        for (int i = 0; i < 10; i++) phase3.add(order(expected, at.plusSeconds(3000 + n), n++, null));
        kafka.send(topic, phase3);
        JobClient third = start(packageV1, args, checkpoints, savepoint2, new Configuration());
        try {
            LocalJob.await("the events after the rollback", third, TIMEOUT, () -> LocalJob.committedCount(cfg) >= expected.size());
            Thread.sleep(3 * CHECKPOINT.toMillis());
        } finally {
            third.cancel().get();
        }
        assertRows(cfg, expected);
        table = LocalJob.table(cfg);
        assertEquals(v2SchemaId, table.schema().schemaId(), "the rollback leaves the evolved schema");
        assertEquals(2, table.schemas().size());
        log("rollback to v1: %d rows; whole test %d ms", LocalJob.committedCount(cfg), ms(t0));
    }

    /**
     * What the job does at start with the orders table when the source schema in its package changed
     * ({@link IcebergTables.Evolution#SOURCE}), besides the added property above: a relaxed required field, a rollback,
     * and the changes it refuses with the column's name (those the synth gate refuses too, or a wrong source.schema).
     */
    @Test
    void theOrdersTableFollowsCompatibleSourceSchemaChangesAndRefusesBreakingOnes() throws Exception {
        org.apache.iceberg.flink.CatalogLoader loader = org.apache.iceberg.flink.CatalogLoader.hadoop("hadoop",
                new org.apache.hadoop.conf.Configuration(), Map.of("warehouse", dir.resolve("guard").toUri().toString()));
        org.apache.iceberg.catalog.TableIdentifier id = org.apache.iceberg.catalog.TableIdentifier.of("teststack", "orders");
        String v1 = Files.readString(Path.of("../../../schemas/orders.schema.json"));
        SourceSchema s1 = SourceSchema.fromJson("orders", v1);
        org.apache.iceberg.PartitionSpec spec = s1.partitionSpec("updated_at");
        IcebergTables.Evolution source = IcebergTables.Evolution.SOURCE;
        IcebergTables.ensureTable(loader, id, s1.iceberg(), spec, source);

        ObjectNode v2 = (ObjectNode) JSON.readTree(v1);
        ((ObjectNode) v2.get("properties")).putObject(COUPON).put("type", "string");
        Table t = IcebergTables.ensureTable(loader, id, SourceSchema.fromJson("orders", v2.toString()).iceberg(), spec, source);
        assertTrue(t.schema().findField(COUPON).isOptional());
        // The rollback: the v1 package on the v2 table starts, the table stays as it is (no new schema version).
        Table rolledBack = IcebergTables.ensureTable(loader, id, s1.iceberg(), spec, source);
        assertEquals(t.schema().schemaId(), rolledBack.schema().schemaId());
        assertEquals(2, rolledBack.schemas().size());

        // A required field made optional (BACKWARD: the new reader reads old data): the column becomes optional.
        ObjectNode relaxed = v2.deepCopy();
        notRequired(relaxed, "customer_id");
        t = IcebergTables.ensureTable(loader, id, SourceSchema.fromJson("orders", relaxed.toString()).iceberg(), spec, source);
        assertTrue(t.schema().findField("customer_id").isOptional());

        // Refused, naming the column: a required field removed (top level or inside a struct), a type Iceberg cannot
        // widen in place (integer -> number is long -> double), another source's schema.
        ObjectNode removed = v2.deepCopy();
        ((ObjectNode) removed.get("properties")).remove("order_id");
        notRequired(removed, "order_id");
        ObjectNode nested = v2.deepCopy();
        ((ObjectNode) nested.at("/properties/items/items/properties")).remove("quantity");
        notRequired((ObjectNode) nested.at("/properties/items/items"), "quantity");
        ObjectNode retyped = v2.deepCopy();
        ((ObjectNode) retyped.at("/properties/items/items/properties/quantity")).put("type", "number");
        Map<String, ObjectNode> refused = Map.of("[order_id]", removed, "[items.element.quantity]", nested, "quantity", retyped,
                "[currency, items, order_id, status, total_amount, updated_at]", (ObjectNode) JSON.readTree(Files.readString(Path.of("../../../schemas/clickstream.schema.json"))));
        for (Map.Entry<String, ObjectNode> e : refused.entrySet()) {
            org.apache.iceberg.Schema candidate = SourceSchema.fromJson("orders", e.getValue().toString()).iceberg();
            IllegalStateException error = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> IcebergTables.ensureTable(loader, id, candidate, spec, source));
            assertTrue(error.getMessage().contains(e.getKey()), error.getMessage());
            log("refused: %s", error.getMessage());
        }
        assertEquals(t.schema().asStruct(), loader.loadCatalog().loadTable(id).schema().asStruct(), "nothing committed by a refusal");
    }

    /** Removes {@code property} from an object schema's {@code required}. */
    private static void notRequired(ObjectNode schema, String property) {
        com.fasterxml.jackson.databind.node.ArrayNode kept = JSON.createArrayNode();
        schema.get("required").forEach(n -> {
            if (!n.asText().equals(property)) kept.add(n);
        });
        schema.set("required", kept);
    }

    /** Exactly the expected events, each once, with coupon_code set where the event had it and null elsewhere. */
    private static void assertRows(JobConfig cfg, Map<String, String> expected) {
        List<Record> rows = LocalJob.rows(cfg);
        Map<String, String> actual = new HashMap<>();
        for (Record r : rows) {
            String before = actual.put((String) r.getField("event_id"), (String) r.getField(COUPON));
            assertNull(before, "written twice: " + r.getField("event_id"));
        }
        assertEquals(expected.size(), rows.size(), "no duplicates");
        assertEquals(expected.keySet(), actual.keySet(), "no loss");
        for (Map.Entry<String, String> e : expected.entrySet()) {
            assertEquals(e.getValue(), actual.get(e.getKey()), "coupon_code of " + e.getKey());
        }
    }

    /**
     * The deployed runtime properties (src/test/resources/deployed-application-properties.json, which the construct's
     * test keeps equal to what the stack sets), read as the job reads them, with what must be local on top: the
     * embedded broker without IAM, a Hadoop catalog and local paths instead of Glue and S3, the checkpoint interval that
     * Managed Flink's CheckpointConfiguration sets in AWS. source.schema, the id and event-time fields, the dedup TTL
     * and the table stay as deployed.
     */
    private static String[] localArgs(Path base) {
        Map<String, String> local = new LinkedHashMap<>();
        local.put(JobConfig.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
        local.put(JobConfig.AUTH, "none");
        local.put(JobConfig.CATALOG_TYPE, "hadoop");
        local.put(JobConfig.WAREHOUSE, base.resolve("warehouse").toUri().toString());
        local.put(JobConfig.ERRORS_PATH, base.resolve("errors").toUri().toString());
        local.put(JobConfig.RAW_PATH, base.resolve("raw").toUri().toString());
        local.put(JobConfig.FRESHNESS_RECEIPTS_PATH, base.resolve("receipts").toUri().toString());
        local.put(JobConfig.CHECKPOINT_INTERVAL, CHECKPOINT.toMillis() + " ms");
        local.put(JobConfig.CONSUMER_PREFIX + "fetch.max.wait.ms", "100");
        List<String> args = new ArrayList<>(List.of("--properties-file", "src/test/resources/deployed-application-properties.json"));
        local.forEach((k, v) -> args.addAll(List.of("--" + k, v)));
        return args.toArray(new String[0]);
    }

    /**
     * Starts {@code pkg}'s job as Managed Flink does: its main class's configuration loading and job graph built with
     * the package's classes and resources (so {@code source.schema=orders} resolves to the package's schema), restored
     * from {@code restoreFrom} when given.
     */
    private static JobClient start(ApplicationPackage pkg, String[] args, Path checkpoints, String restoreFrom, Configuration base) throws Exception {
        Configuration conf = new Configuration(base);
        conf.setString("state.checkpoints.dir", checkpoints.toUri().toString());
        conf.setString("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION");
        conf.setString("restart-strategy.type", "none");
        if (restoreFrom != null) conf.setString("execution.savepoint.path", restoreFrom);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, conf);
        Class<?> config = pkg.loadClass(JobConfig.class.getName());
        Class<?> job = pkg.loadClass(IcebergIngestJob.class.getName());
        ClassLoader previous = Thread.currentThread().getContextClassLoader();
        Thread.currentThread().setContextClassLoader(pkg);
        try {
            Object cfg = config.getMethod("load", String[].class).invoke(null, (Object) args);
            job.getMethod("build", StreamExecutionEnvironment.class, config).invoke(null, env, cfg);
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof Exception ? (Exception) e.getCause() : e;
        } finally {
            Thread.currentThread().setContextClassLoader(previous);
        }
        return env.executeAsync("schema evolution " + pkg.name);
    }

    /**
     * An application package: the job's classes ({@code target/classes}: what the shaded JAR holds of this project)
     * and the {@code schemas/} the pom copies into it; with {@code orders}, the package's {@code schemas/orders.schema.json}
     * is that text instead, as a JAR built from a changed schemas/ would carry it. The job's own classes and resources
     * load from the package first; Flink, Iceberg and the rest from the test's class path, as the runtime provides them.
     */
    static final class ApplicationPackage extends URLClassLoader {
        private static final String JOB_PACKAGE = IcebergIngestJob.class.getPackageName() + ".";
        final String name;

        private ApplicationPackage(String name, URL[] urls) {
            super(urls, SchemaEvolutionTest.class.getClassLoader());
            this.name = name;
        }

        static ApplicationPackage of(Path dir, String orders) throws IOException {
            List<URL> urls = new ArrayList<>();
            if (orders != null) {
                Files.createDirectories(dir.resolve("schemas"));
                Files.writeString(dir.resolve("schemas/orders.schema.json"), orders);
                urls.add(dir.toUri().toURL());
            }
            urls.add(Path.of("target/classes").toUri().toURL());
            return new ApplicationPackage(dir.getFileName().toString(), urls.toArray(new URL[0]));
        }

        @Override
        protected Class<?> loadClass(String className, boolean resolve) throws ClassNotFoundException {
            if (!className.startsWith(JOB_PACKAGE)) return super.loadClass(className, resolve);
            synchronized (getClassLoadingLock(className)) {
                Class<?> c = findLoadedClass(className);
                if (c == null) c = findClass(className);
                if (resolve) resolveClass(c);
                return c;
            }
        }

        @Override
        public URL getResource(String resource) {
            URL own = findResource(resource);
            return own != null ? own : super.getResource(resource);
        }
    }

    /** A valid orders event (v1; with {@code coupon} the v2 property), recorded in {@code expected}. */
    private static byte[] order(Map<String, String> expected, Instant at, int n, String coupon) {
        String id = LocalJob.newId();
        ObjectNode o = JSON.createObjectNode();
        o.put("event_id", id);
        o.put("order_id", String.format("ORD-%06d", 200000 + n));
        o.put("customer_id", "c-" + (n % 50));
        o.put("status", STATUSES[n % STATUSES.length]);
        o.put("currency", n % 2 == 0 ? "EUR" : "USD");
        o.put("total_amount", 10.5 * (1 + n % 3));
        ObjectNode item = o.putArray("items").addObject();
        item.put("sku", "sku-" + (n % 9));
        item.put("quantity", 1 + n % 3);
        item.put("unit_price", 10.5);
        if (n % 3 == 0) o.putObject("shipping_address").put("country", "FR");
        o.put("updated_at", at.toString());
        if (coupon != null) o.put(COUPON, coupon);
        expected.put(id, coupon);
        return o.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static List<JsonNode> errorRecords(JobConfig cfg) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String l : LocalJob.errorLines(cfg)) out.add(JSON.readTree(l));
        return out;
    }

    private static long metric(InMemoryReporter reporter, JobClient job, String name) {
        return reporter.findMetrics(job.getJobID(), "." + name).entrySet().stream()
                .filter(e -> e.getKey().endsWith("." + name)).mapToLong(e -> ((Counter) e.getValue()).getCount()).sum();
    }

    private static long ms(long since) {
        return (System.nanoTime() - since) / 1_000_000;
    }

    private static void log(String format, Object... values) {
        System.out.println("[schema-evolution] " + String.format(format, values));
    }
}
