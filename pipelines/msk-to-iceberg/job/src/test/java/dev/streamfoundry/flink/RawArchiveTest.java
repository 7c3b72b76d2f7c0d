package dev.streamfoundry.flink;

import org.apache.flink.api.common.serialization.BulkWriter;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.streaming.api.functions.sink.filesystem.BucketAssigner;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The raw zone ({@link RawArchive}): the whole job on a Flink mini cluster with {@code raw.path} set, reading a real
 * Kafka broker, stopped mid-stream and restored from its last checkpoint; the gzip files read back must hold every
 * Kafka record exactly once, byte for byte, in the dt/hour folder of its Kafka timestamp.
 */
class RawArchiveTest {
    private static final Duration CHECKPOINT = Duration.ofSeconds(1);
    private static final Duration TIMEOUT = Duration.ofMinutes(2);
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

    /** A record as sent: its Kafka timestamp and value (null: a tombstone). */
    private static final class Sent {
        final long timestamp;
        final byte[] value;

        Sent(long timestamp, byte[] value) {
            this.timestamp = timestamp;
            this.value = value;
        }

        /** The archive entry this record must become: its folder, computed here independently of RawArchive, and its bytes. */
        String entry() {
            LocalDateTime t = LocalDateTime.ofInstant(Instant.ofEpochMilli(timestamp), ZoneOffset.UTC);
            return entry(String.format("dt=%s/hour=%02d", t.toLocalDate(), t.getHour()), value == null ? new byte[0] : value);
        }

        static String entry(String folder, byte[] line) {
            return folder + " " + Base64.getEncoder().encodeToString(line);
        }
    }

    @Test
    void everyKafkaRecordIsArchivedOnceByteForByteInItsHourAcrossAStopAndRestore() throws Exception {
        String topic = "clicks-raw";
        kafka.createTopic(topic, 2);
        Path base = dir.resolve("raw-e2e");
        Path rawRoot = base.resolve("raw");
        java.util.Map<String, String> props = LocalJob.properties(kafka.bootstrapServers(), topic, base, CHECKPOINT);
        props.put(JobConfig.RAW_PATH, rawRoot.toUri().toString());
        JobConfig cfg = JobConfig.of(props);
        Path checkpoints = base.resolve("checkpoints");

        // Kafka timestamps over two days (the broker keeps 7 days), across hour and midnight boundaries.
        Instant start = Instant.now().truncatedTo(ChronoUnit.HOURS).minus(Duration.ofHours(49));
        Instant midnight = LocalDate.now(ZoneOffset.UTC).minusDays(1).atStartOfDay().toInstant(ZoneOffset.UTC);
        List<Sent> batchA = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            batchA.add(new Sent(start.plus(Duration.ofMinutes(7L * i)).toEpochMilli(), LocalJob.event(LocalJob.newId(), start, i)));
        }
        batchA.add(new Sent(midnight.toEpochMilli() - 1, LocalJob.event(LocalJob.newId(), midnight, 1)));
        batchA.add(new Sent(midnight.toEpochMilli(), LocalJob.event(LocalJob.newId(), midnight, 2)));
        // Kept as they came, though the parser rejects them or dedup drops them downstream.
        batchA.add(new Sent(midnight.toEpochMilli(), "{\"event_id\":".getBytes(StandardCharsets.UTF_8)));
        batchA.add(new Sent(midnight.toEpochMilli(), new byte[] {(byte) 0xC3, (byte) 0x28, '{', '}', '\r'}));
        batchA.add(new Sent(midnight.toEpochMilli(), new byte[0]));
        batchA.add(new Sent(midnight.toEpochMilli(), null));
        batchA.add(new Sent(start.toEpochMilli(), batchA.get(0).value)); // a redelivery is a record of its own
        List<Sent> all = Collections.synchronizedList(new ArrayList<>(batchA));
        send(topic, batchA);

        JobClient first = LocalJob.start(cfg, checkpoints, null, 2);
        CompletableFuture<Void> producing = null;
        try {
            LocalJob.await("batch A archived", first, TIMEOUT, () -> archived(rawRoot).size() >= batchA.size());
            // Keep producing (~6 s, "now") while the first run goes on: the cancel falls mid-stream, between checkpoints.
            producing = CompletableFuture.runAsync(() -> {
                try {
                    for (int i = 0; i < 300; i++) {
                        Sent s = new Sent(System.currentTimeMillis(), LocalJob.event(LocalJob.newId(), Instant.now(), i));
                        send(topic, List.of(s));
                        all.add(s);
                        if (i % 5 == 4) Thread.sleep(100);
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            LocalJob.await("batch B being archived", first, TIMEOUT, () -> archived(rawRoot).size() > batchA.size());
        } finally {
            first.cancel().get();
        }
        producing.get();
        String checkpoint = LocalJob.latestCheckpoint(checkpoints, first.getJobID())
                .orElseThrow(() -> new AssertionError("no retained checkpoint")).toUri().toString();
        int archivedAtStop = archived(rawRoot).size();
        assertTrue(archivedAtStop < all.size(), "stopped before everything was archived (" + archivedAtStop + " of " + all.size() + ")");

        List<Sent> batchC = new ArrayList<>();
        for (int i = 0; i < 50; i++) batchC.add(new Sent(start.plus(Duration.ofHours(30)).toEpochMilli() + i, LocalJob.event(LocalJob.newId(), start, i)));
        all.addAll(batchC);
        send(topic, batchC);

        JobClient second = LocalJob.start(cfg, checkpoints, checkpoint, 2);
        try {
            LocalJob.await("every record archived after the restore", second, TIMEOUT, () -> archived(rawRoot).size() >= all.size());
            Thread.sleep(3 * CHECKPOINT.toMillis()); // more checkpoints: nothing more may arrive
        } finally {
            second.cancel().get();
        }

        List<String> expected = all.stream().map(Sent::entry).sorted().collect(Collectors.toList());
        List<String> actual = archived(rawRoot);
        Collections.sort(actual);
        assertEquals(expected.size(), actual.size(), "every Kafka record once: " + archivedAtStop + " archived at the stop");
        assertEquals(expected, actual, "byte-identical values, each in the dt/hour folder of its Kafka timestamp");
        assertTrue(actual.stream().anyMatch(e -> e.startsWith("dt=" + LocalDate.now(ZoneOffset.UTC).minusDays(2))),
                "records two days back are under their own day, not the day they were read");
    }

    @Test
    void folderIsTheUtcHourOfTheKafkaTimestampOrOfProcessingTimeWithout() {
        RawArchive.HourOfRecordTime assigner = new RawArchive.HourOfRecordTime();
        long processingTime = Instant.parse("2026-12-04T13:05:00Z").toEpochMilli();
        BucketAssigner.Context ctx = new BucketAssigner.Context() {
            @Override
            public long currentProcessingTime() {
                return processingTime;
            }

            @Override
            public long currentWatermark() {
                return Long.MIN_VALUE;
            }

            @Override
            public Long timestamp() {
                return null;
            }
        };
        assertEquals("dt=2026-11-30/hour=23", assigner.getBucketId(record(Instant.parse("2026-11-30T23:59:59.999Z").toEpochMilli()), ctx));
        assertEquals("dt=2026-12-01/hour=00", assigner.getBucketId(record(Instant.parse("2026-12-01T00:00:00Z").toEpochMilli()), ctx));
        assertEquals("dt=1970-01-01/hour=00", assigner.getBucketId(record(0), ctx));
        // Kafka's "no timestamp" (-1): the hour it was read.
        assertEquals("dt=2026-12-04/hour=13", assigner.getBucketId(record(-1), ctx));
    }

    @Test
    void eachFileIsOneGzipStreamOfValuesAndNewlinesAndTheFileStreamStaysOpenForTheSink() throws Exception {
        org.apache.flink.core.fs.Path file = new org.apache.flink.core.fs.Path(dir.resolve("writer.gz").toUri());
        byte[] large = new byte[300_000];
        for (int i = 0; i < large.length; i++) large[i] = (byte) ('a' + i % 26);
        try (FSDataOutputStream out = FileSystem.getLocalFileSystem().create(file, FileSystem.WriteMode.OVERWRITE)) {
            BulkWriter<RawRecord> writer = new RawArchive.GzipLines().create(out);
            writer.addElement(record(1, "{\"a\":1}".getBytes(StandardCharsets.UTF_8)));
            writer.addElement(record(1, null));
            writer.flush();
            writer.addElement(record(1, new byte[] {(byte) 0xFF, 0}));
            writer.addElement(record(1, large));
            writer.finish();
            out.write('x'); // still open: the sink, not the writer, closes it (a closed stream would throw here)
        }
        byte[] bytes = Files.readAllBytes(Path.of(file.toUri()));
        int gzipEnd = bytes.length - 1;
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.write("{\"a\":1}\n\n".getBytes(StandardCharsets.UTF_8));
        expected.write(new byte[] {(byte) 0xFF, 0, '\n'});
        expected.write(large);
        expected.write('\n');
        try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(bytes, 0, gzipEnd))) {
            assertArrayEquals(expected.toByteArray(), in.readAllBytes());
        }
        assertTrue(gzipEnd < large.length / 10, "compressed (" + gzipEnd + " bytes)");
    }

    private static RawRecord record(long timestamp) {
        return record(timestamp, new byte[0]);
    }

    private static RawRecord record(long timestamp, byte[] value) {
        return new RawRecord("t", 0, 0, timestamp, value);
    }

    private static void send(String topic, List<Sent> records) throws Exception {
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        for (Sent s : records) sent.add(kafka.producer().send(new ProducerRecord<>(topic, null, s.timestamp, null, s.value)));
        kafka.producer().flush();
        for (Future<RecordMetadata> f : sent) f.get();
    }

    /** Every line of the committed archive files ("folder base64(line)"); in-progress files are '.'-prefixed, not read. */
    private static List<String> archived(Path root) {
        if (!Files.isDirectory(root)) return new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            List<String> out = new ArrayList<>();
            for (Path p : s.filter(Files::isRegularFile).collect(Collectors.toList())) {
                String name = p.getFileName().toString();
                if (!name.startsWith(RawArchive.PART_PREFIX) || !name.endsWith(RawArchive.PART_SUFFIX)) continue;
                String folder = root.relativize(p.getParent()).toString().replace('\\', '/');
                byte[] content;
                try (InputStream in = new GZIPInputStream(Files.newInputStream(p))) {
                    content = in.readAllBytes();
                }
                assertTrue(content.length > 0 && content[content.length - 1] == '\n', p + " ends with a newline");
                int from = 0;
                for (int i = 0; i < content.length; i++) {
                    if (content[i] == '\n') {
                        out.add(Sent.entry(folder, java.util.Arrays.copyOfRange(content, from, i)));
                        from = i + 1;
                    }
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
