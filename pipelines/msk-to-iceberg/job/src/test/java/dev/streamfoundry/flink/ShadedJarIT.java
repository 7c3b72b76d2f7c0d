package dev.streamfoundry.flink;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.FileSystemFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.ServiceLoader;
import java.util.jar.JarFile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The JAR Managed Flink runs (after `package`; `mvn verify` runs this): what it must and must not contain. */
class ShadedJarIT {
    private static JarFile jar;

    @BeforeAll
    static void open() throws IOException {
        Path p = Path.of("target", "flink-iceberg-job.jar");
        assertTrue(Files.isRegularFile(p), "run after package: " + p);
        jar = new JarFile(p.toFile());
    }

    @Test
    void entryPointSchemasAndJava11Bytecode() throws IOException {
        assertEquals(IcebergIngestJob.class.getName(), jar.getManifest().getMainAttributes().getValue("Main-Class"));
        for (String s : new String[] {"schemas/clickstream.schema.json", "schemas/orders.schema.json"}) {
            JarEntry e = jar.getJarEntry(s);
            assertNotNull(e, s);
            try (InputStream in = jar.getInputStream(e)) {
                String inJar = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                assertEquals(Files.readString(Path.of("../../..", s)), inJar, s + " is the repository's file");
            }
        }
        try (DataInputStream in = new DataInputStream(jar.getInputStream(jar.getJarEntry("dev/streamfoundry/flink/IcebergIngestJob.class")))) {
            assertEquals(0xCAFEBABE, in.readInt());
            in.readUnsignedShort();
            assertEquals(55, in.readUnsignedShort(), "class file version 55 = Java 11 (Managed Flink's JVM)");
        }
    }

    @Test
    void bundlesConnectorsCatalogsAndIamAuthButNotFlinkItself() throws IOException {
        for (String c : new String[] {
                "org/apache/flink/connector/kafka/source/KafkaSource.class",
                "org/apache/kafka/clients/consumer/KafkaConsumer.class",
                // The delivery topic's sink, and the codec of its producer's compression.type=lz4.
                "org/apache/flink/connector/kafka/sink/KafkaSink.class",
                "org/apache/kafka/clients/producer/KafkaProducer.class",
                "net/jpountz/lz4/LZ4Factory.class",
                "software/amazon/msk/auth/iam/IAMLoginModule.class",
                "software/amazon/msk/auth/iam/IAMClientCallbackHandler.class",
                "org/apache/iceberg/flink/sink/FlinkSink.class",
                "org/apache/iceberg/aws/glue/GlueCatalog.class",
                "org/apache/iceberg/aws/s3/S3FileIO.class",
                "software/amazon/awssdk/services/glue/GlueClient.class",
                "software/amazon/awssdk/services/secretsmanager/SecretsManagerClient.class",
                "org/apache/hadoop/conf/Configuration.class",
                "com/networknt/schema/JsonSchemaFactory.class",
                "com/amazonaws/services/kinesisanalytics/runtime/KinesisAnalyticsRuntime.class"}) {
            assertNotNull(jar.getJarEntry(c), c);
        }
        for (String c : new String[] {
                "org/apache/flink/streaming/api/environment/StreamExecutionEnvironment.class",
                "org/apache/flink/runtime/jobgraph/JobGraph.class",
                "org/apache/flink/table/data/RowData.class",
                "org/apache/logging/log4j/Logger.class",
                "org/slf4j/Logger.class"}) {
            assertNull(jar.getJarEntry(c), c + " comes from the Flink runtime, not the JAR");
        }
        String fs = read("META-INF/services/org.apache.flink.core.fs.FileSystemFactory");
        assertTrue(fs.contains("S3AFileSystemFactory"), "s3a:// for the error sink registered: " + fs);
        assertFalse(jar.stream().anyMatch(e -> e.getName().startsWith("software/amazon/awssdk/services/ssooidc/")),
                "one AWS SDK (iceberg-aws-bundle's), no second copy from aws-msk-iam-auth");
    }

    /** The Secrets Manager client (the rules' hash key) is of the same SDK version as the core it runs on (iceberg-aws-bundle's). */
    @Test
    void secretsManagerClientMatchesTheBundledSdk() throws IOException {
        String core = read("META-INF/maven/software.amazon.awssdk/sdk-core/pom.properties");
        String client = read("META-INF/maven/software.amazon.awssdk/secretsmanager/pom.properties");
        String version = core.lines().filter(l -> l.startsWith("version=")).findFirst().orElseThrow();
        assertTrue(client.contains(version), "secretsmanager " + client + " vs sdk-core " + version);
    }

    /**
     * The error sink's and the raw zone's paths as the construct deploys them resolve, through the file-system factories
     * this JAR registers (loaded from the JAR: the IT's classpath leaves flink-s3-fs-hadoop out), to a file system with
     * the RecoverableWriter the FileSink needs; the freshness receipts' root (a bucket root) to the same file system.
     */
    @Test
    void deployedErrorsPathHasARecoverableWriterFromTheJar() throws Exception {
        JobConfig cfg = JobConfig.load(new String[] {"--properties-file", "src/test/resources/deployed-application-properties.json"});
        assertThrows(ClassNotFoundException.class, () -> Class.forName("org.apache.flink.fs.s3hadoop.S3AFileSystemFactory"),
                "the S3 file system must come from the JAR in this test, not from the test classpath");
        // One class loader for both paths, as in the runtime (a second one would meet the first's S3A statistics).
        try (URLClassLoader fromJar = new URLClassLoader(new URL[] {Path.of("target", "flink-iceberg-job.jar").toUri().toURL()}, getClass().getClassLoader())) {
            for (String path : List.of(cfg.errorsPath, cfg.rawPath.orElseThrow(() -> new AssertionError("the construct deploys raw.path")),
                    cfg.freshnessReceiptsPath.orElseThrow(() -> new AssertionError("the construct deploys freshness.receipts.path")))) {
                URI uri = new org.apache.flink.core.fs.Path(path).toUri();
                FileSystemFactory factory = null;
                for (FileSystemFactory f : ServiceLoader.load(FileSystemFactory.class, fromJar)) {
                    if (f.getScheme().equals(uri.getScheme())) factory = f;
                }
                assertNotNull(factory, "the JAR registers no file system for " + uri.getScheme() + "://");
                factory.configure(new Configuration());
                FileSystem fs = factory.create(uri);
                assertNotNull(fs.createRecoverableWriter(), uri + ": " + fs.getClass().getName());
            }
        }
    }

    private static String read(String entry) throws IOException {
        JarEntry e = jar.getJarEntry(entry);
        assertNotNull(e, entry);
        try (InputStream in = jar.getInputStream(e)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
