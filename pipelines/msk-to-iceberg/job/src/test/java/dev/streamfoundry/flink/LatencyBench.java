package dev.streamfoundry.flink;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.util.TimeUtils;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.parquet.Parquet;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Latency, event produced -> committed to the Iceberg table, on a mini cluster with an in-process broker, at the
 * checkpoint interval the application uses ({@link #RECOMMENDED_CHECKPOINT_INTERVAL}, which the CDK construct sets in
 * Managed Flink's CheckpointConfiguration). Each event carries its send time (occurred_at, ms); its commit time is the
 * timestamp of the Iceberg snapshot that added its data file. Not part of the default tests:
 * {@code mvn -B -Pbench test} (system properties bench.checkpoint, bench.seconds, bench.rate override the defaults).
 */
@Tag("bench")
class LatencyBench {
    static final Duration RECOMMENDED_CHECKPOINT_INTERVAL = Duration.ofSeconds(5);
    static final Duration TARGET_P95 = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @Test
    void producedToCommittedLatency() throws Exception {
        latency(false);
    }

    /** The same with the clickstream case's processing rules (filters, masks incl. the keyed hash, casts, derive, aggregates). */
    @Test
    void producedToCommittedLatencyWithRules() throws Exception {
        latency(true);
    }

    private void latency(boolean rules) throws Exception {
        Duration interval = TimeUtils.parseDuration(System.getProperty("bench.checkpoint", RECOMMENDED_CHECKPOINT_INTERVAL.toMillis() + " ms"));
        int seconds = Integer.getInteger("bench.seconds", 60);
        int rate = Integer.getInteger("bench.rate", 200);
        int warmupSeconds = 10;

        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            String topic = "clicks-bench";
            kafka.createTopic(topic, 2);
            java.util.Map<String, String> props = LocalJob.properties(kafka.bootstrapServers(), topic, dir, interval);
            if (rules) props.put(JobConfig.PROCESSING, LocalJob.processingDocument(dir, "clickstream").toString());
            JobConfig cfg = JobConfig.of(props);
            JobClient job = LocalJob.start(cfg, dir.resolve("checkpoints"), null, 2);
            Instant measureFrom;
            int sent = 0;
            try {
                // Wait for the first checkpoint so start-up is not measured, then produce at a steady rate.
                LocalJob.await("the job running", job, Duration.ofSeconds(120),
                        () -> LocalJob.latestCheckpointQuiet(dir.resolve("checkpoints"), job).isPresent());
                long start = System.nanoTime();
                measureFrom = Instant.now().plusSeconds(warmupSeconds);
                int total = (seconds + warmupSeconds) * rate;
                for (int i = 0; i < total; i++) {
                    long due = start + (long) i * 1_000_000_000L / rate;
                    long wait = due - System.nanoTime();
                    if (wait > 0) Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    kafka.producer().send(new ProducerRecord<>(topic, LocalJob.event(LocalJob.newId(), Instant.now(), i)));
                    sent++;
                }
                kafka.producer().flush();
                int expected = sent;
                LocalJob.await("every event committed", job, Duration.ofSeconds(120), () -> LocalJob.committedCount(cfg) >= expected);
            } finally {
                job.cancel().get();
            }

            Table table = LocalJob.table(cfg);
            Schema projection = table.schema().select("event_id", "occurred_at");
            List<Long> latencies = new ArrayList<>();
            Set<String> ids = new HashSet<>();
            int snapshots = 0;
            for (Snapshot s : table.snapshots()) {
                snapshots++;
                for (DataFile f : s.addedDataFiles(table.io())) {
                    try (CloseableIterable<Record> rows = Parquet.read(table.io().newInputFile(f.location())).project(projection)
                            .createReaderFunc(fs -> GenericParquetReaders.buildReader(projection, fs)).build()) {
                        for (Record r : rows) {
                            ids.add((String) r.getField("event_id"));
                            Instant produced = ((OffsetDateTime) r.getField("occurred_at")).toInstant();
                            if (!produced.isBefore(measureFrom)) latencies.add(s.timestampMillis() - produced.toEpochMilli());
                        }
                    }
                }
            }
            assertEquals(sent, ids.size(), "every produced event committed once");
            Collections.sort(latencies);
            double p50 = pct(latencies, 50) / 1000.0, p95 = pct(latencies, 95) / 1000.0, p99 = pct(latencies, 99) / 1000.0;
            double max = latencies.get(latencies.size() - 1) / 1000.0;
            double ratio = p95 / (TARGET_P95.toMillis() / 1000.0);
            String line = String.format(Locale.ROOT, "Flink -> Iceberg latency" + (rules ? " with processing rules" : "") + ", event produced -> committed (checkpoint interval %s, "
                    + "%d events at %d/s, %d commits): p50 %.2f s, p95 %.2f s, p99 %.2f s, max %.2f s; p95 = %.2fx the %d s target (%s)",
                    TimeUtils.formatWithHighestUnit(interval), latencies.size(), rate, snapshots, p50, p95, p99, max, ratio,
                    TARGET_P95.toSeconds(), ratio <= 1 ? "met" : "NOT met");
            System.out.println(line);
            Path out = Path.of("target", "bench", rules ? "latency-rules.json" : "latency.json");
            Files.createDirectories(out.getParent());
            Files.writeString(out, String.format(Locale.ROOT, "{\"rules\":" + rules + ",\"checkpointIntervalMs\":%d,\"events\":%d,\"ratePerSecond\":%d,\"commits\":%d,"
                    + "\"p50Seconds\":%.3f,\"p95Seconds\":%.3f,\"p99Seconds\":%.3f,\"maxSeconds\":%.3f,\"targetP95Seconds\":%d,\"p95ToTarget\":%.3f}%n",
                    interval.toMillis(), latencies.size(), rate, snapshots, p50, p95, p99, max, TARGET_P95.toSeconds(), ratio), StandardCharsets.UTF_8);
        }
    }

    private static long pct(List<Long> sorted, int p) {
        int idx = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, idx)));
    }
}
