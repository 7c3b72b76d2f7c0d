package dev.streamfoundry.flink;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Throughput with the processing rules off and on (the clickstream case's rules: two filters, a keyed hash, a fixed
 * mask, drop, rename, cast, two derives, and the per-minute aggregates), two ways:
 * <ul>
 * <li>per core: the parse step alone (UTF-8, JSON, the source's JSON Schema, the rules, the row) on one thread;</li>
 * <li>the whole job at parallelism 1 (one Managed Flink KPU: 1 vCPU) on a mini cluster, reading a pre-filled topic of
 * an in-process broker to Iceberg (5 s checkpoints): events/s from the job's eventsIn counter between 20 % and 90 % of
 * the input. The broker and the mini cluster share this machine's cores, so this is a lower bound.</li>
 * </ul>
 * {@code mvn -B -Pbench test} (system properties bench.events, bench.pipeline.events override the sizes); writes
 * target/bench/throughput.json.
 */
@Tag("bench")
class ThroughputBench {
    @TempDir
    Path dir;

    @Test
    void eventsPerSecondWithRulesOffAndOn() throws Exception {
        int n = Integer.getInteger("bench.events", 100_000);
        List<byte[]> events = new ArrayList<>(n);
        Instant t0 = Instant.parse("2026-11-20T09:00:00Z");
        for (int i = 0; i < n; i++) events.add(LocalJob.event(LocalJob.newId(), t0.plusMillis(i * 10L), i));
        SourceSchema schema = SourceSchema.load("clickstream");
        Processing processing = Processing.load(LocalJob.processingDocument(dir, "clickstream").toString());
        byte[] key = "bench-key".getBytes(StandardCharsets.UTF_8);
        double off = perCore(new EventParser(schema), events);
        double on = perCore(new EventParser(schema, processing, key), events);
        System.out.println(String.format(Locale.ROOT, "Flink parse step, one thread (%d events): rules off %.0f events/s, rules on %.0f events/s (%.0f %% of off)",
                n, off, on, 100 * on / off));

        int m = Integer.getInteger("bench.pipeline.events", 150_000);
        double jobOff, jobOn;
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            String topic = "clicks-throughput";
            kafka.createTopic(topic, 2);
            List<byte[]> batch = new ArrayList<>();
            for (int i = 0; i < m; i++) {
                batch.add(LocalJob.event(LocalJob.newId(), t0.plusMillis(i * 10L), i));
                if (batch.size() == 10_000) {
                    kafka.send(topic, batch);
                    batch.clear();
                }
            }
            if (!batch.isEmpty()) kafka.send(topic, batch);
            jobOff = pipeline(kafka, topic, "throughput_off", false, m);
            jobOn = pipeline(kafka, topic, "throughput_on", true, m);
        }
        System.out.println(String.format(Locale.ROOT, "Flink -> Iceberg job at parallelism 1 (%d events from Kafka, 5 s checkpoints): "
                + "rules off %.0f events/s, rules on %.0f events/s (%.0f %% of off)", m, jobOff, jobOn, 100 * jobOn / jobOff));
        Path out = Path.of("target", "bench", "throughput.json");
        Files.createDirectories(out.getParent());
        Files.writeString(out, String.format(Locale.ROOT, "{\"parseEventsPerSecondPerCore\":{\"rulesOff\":%.0f,\"rulesOn\":%.0f},"
                + "\"jobEventsPerSecondAtParallelism1\":{\"rulesOff\":%.0f,\"rulesOn\":%.0f},\"parseEvents\":%d,\"jobEvents\":%d}%n",
                off, on, jobOff, jobOn, n, m), StandardCharsets.UTF_8);
    }

    /** Best of three timed passes after two warm-up passes. */
    private static double perCore(EventParser parser, List<byte[]> events) {
        double best = 0;
        for (int round = 0; round < 5; round++) {
            long start = System.nanoTime();
            int ok = 0;
            for (byte[] e : events) if (parser.parse(e).ok()) ok++;
            double rate = events.size() / ((System.nanoTime() - start) / 1e9);
            assertTrue(ok == events.size(), "every bench event is kept: " + ok);
            if (round >= 2) best = Math.max(best, rate);
        }
        return best;
    }

    private double pipeline(EmbeddedKafka kafka, String topic, String table, boolean rules, int total) throws Exception {
        Map<String, String> p = LocalJob.properties(kafka.bootstrapServers(), topic, dir.resolve(table), Duration.ofSeconds(5));
        p.put(JobConfig.TABLE, table); // its own table and consumer group: reads the topic from the start
        if (rules) p.put(JobConfig.PROCESSING, LocalJob.processingDocument(dir, "clickstream").toString());
        JobConfig cfg = JobConfig.of(p);
        InMemoryReporter reporter = InMemoryReporter.create();
        JobClient job = LocalJob.start(cfg, dir.resolve(table + "-checkpoints"), null, 1,
                reporter.addToConfiguration(new org.apache.flink.configuration.Configuration()));
        try {
            long from = total / 5, to = total * 9L / 10;
            LocalJob.await("20 % read", job, Duration.ofMinutes(5), () -> eventsIn(reporter, job) >= from);
            long c0 = eventsIn(reporter, job), t0 = System.nanoTime();
            LocalJob.await("90 % read", job, Duration.ofMinutes(5), () -> eventsIn(reporter, job) >= to);
            long c1 = eventsIn(reporter, job), t1 = System.nanoTime();
            return (c1 - c0) / ((t1 - t0) / 1e9);
        } finally {
            job.cancel().get();
        }
    }

    private static long eventsIn(InMemoryReporter reporter, JobClient job) {
        return reporter.findMetrics(job.getJobID(), "." + JobMetrics.EVENTS_IN).entrySet().stream()
                .filter(e -> e.getKey().endsWith("." + JobMetrics.EVENTS_IN))
                .mapToLong(e -> ((Counter) e.getValue()).getCount()).sum();
    }
}
