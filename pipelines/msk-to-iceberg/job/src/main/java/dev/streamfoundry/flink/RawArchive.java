package dev.streamfoundry.flink;

import org.apache.flink.api.common.serialization.BulkWriter;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.Path;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.streaming.api.functions.sink.filesystem.BucketAssigner;
import org.apache.flink.streaming.api.functions.sink.filesystem.OutputFileConfig;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.SimpleVersionedStringSerializer;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.OnCheckpointRollingPolicy;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.zip.GZIPOutputStream;

/**
 * The source's raw zone: every Kafka record of the topic, archived unchanged before parsing, as
 * {@code <raw.path>/dt=YYYY-MM-DD/hour=HH/raw-<uuid>-<n>.gz}: GZIP, one record per line (the value's bytes as they
 * arrived, then {@code \n}), dt/hour the UTC hour of the Kafka record timestamp (the producer's send time, or the
 * broker's append time on a LogAppendTime topic), processing time for a record without one. The layout is the one
 * Firehose writes for the Kinesis sources' raw zones, so one replay script and one Glue table shape serve both.
 *
 * <p>A bulk format: each file is finished on the next checkpoint and committed when that checkpoint completes, so a
 * restart from a checkpoint neither loses nor repeats a record (in-progress files are S3 multipart uploads, invisible
 * until committed; locally, '.'-prefixed).
 */
public final class RawArchive {
    public static final String PART_PREFIX = "raw";
    public static final String PART_SUFFIX = ".gz";

    private RawArchive() {
    }

    /** The FileSink for {@code path} (an {@code s3a://} URI in AWS, see {@link JobConfig#ERRORS_SCHEME}, or a local path). */
    public static FileSink<RawRecord> sink(String path) {
        return FileSink.forBulkFormat(new Path(path), new GzipLines())
                .withBucketAssigner(new HourOfRecordTime())
                // The only policy a bulk format allows: a gzip stream cannot be resumed, so files end on checkpoints.
                .withRollingPolicy(OnCheckpointRollingPolicy.build())
                .withOutputFileConfig(OutputFileConfig.builder().withPartPrefix(PART_PREFIX).withPartSuffix(PART_SUFFIX).build())
                .build();
    }

    /** {@code dt=YYYY-MM-DD/hour=HH} (UTC) of the record's Kafka timestamp, or of the processing time when it has none. */
    public static final class HourOfRecordTime implements BucketAssigner<RawRecord, String> {
        private static final long serialVersionUID = 1L;
        private static final DateTimeFormatter FOLDER = DateTimeFormatter.ofPattern("'dt='yyyy-MM-dd'/hour='HH").withZone(ZoneOffset.UTC);

        @Override
        public String getBucketId(RawRecord r, Context context) {
            // Kafka reports a record without a timestamp as -1 (RecordBatch.NO_TIMESTAMP).
            return folder(r.timestamp >= 0 ? r.timestamp : context.currentProcessingTime());
        }

        static String folder(long epochMillis) {
            return FOLDER.format(Instant.ofEpochMilli(epochMillis));
        }

        @Override
        public SimpleVersionedSerializer<String> getSerializer() {
            return SimpleVersionedStringSerializer.INSTANCE;
        }
    }

    /** One gzip stream per part file: each record's value bytes, then a newline. */
    static final class GzipLines implements BulkWriter.Factory<RawRecord> {
        private static final long serialVersionUID = 1L;
        private static final int BUFFER = 64 * 1024;

        @Override
        public BulkWriter<RawRecord> create(FSDataOutputStream out) throws IOException {
            Gzip gzip = new Gzip(out);
            return new BulkWriter<>() {
                @Override
                public void addElement(RawRecord r) throws IOException {
                    // A record without a value (a Kafka tombstone) is an empty line: it is kept, not dropped.
                    if (r.value != null) gzip.write(r.value);
                    gzip.write('\n');
                }

                @Override
                public void flush() throws IOException {
                    gzip.flush();
                }

                @Override
                public void finish() throws IOException {
                    // Writes the gzip trailer; the sink owns and closes the file stream, so it must stay open here.
                    gzip.finish();
                    gzip.releaseDeflater();
                }
            };
        }
    }

    private static final class Gzip extends GZIPOutputStream {
        Gzip(OutputStream out) throws IOException {
            super(out, GzipLines.BUFFER);
        }

        /** The deflater's native memory, freed now rather than by the garbage collector (finish() keeps it). */
        void releaseDeflater() {
            def.end();
        }
    }
}
