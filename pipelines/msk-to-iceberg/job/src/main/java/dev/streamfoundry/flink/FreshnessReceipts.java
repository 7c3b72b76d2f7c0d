package dev.streamfoundry.flink;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The freshness exit of this pipeline (platform/freshness): one receipt per canary, written once the canary's
 * checkpoint is complete, i.e. once the Iceberg commit that covers everything read before the canary is due.
 *
 * <p>The Iceberg sink commits on checkpoint completion ({@code IcebergFilesCommitter.notifyCheckpointComplete}), so a
 * receipt here means "committed" under the same rule: canaries seen since the last checkpoint are assigned to the next
 * checkpoint when it snapshots this operator (barriers are aligned, so every event read before a canary is in that
 * checkpoint's Iceberg files), and their receipts are written in {@link #notifyCheckpointComplete} of that checkpoint
 * (or of a later one: Flink may skip a notification), with committedAt = the notification's time. Pending canaries are
 * operator state, so a restore from a checkpoint or savepoint still writes their receipts, at the first checkpoint that
 * completes after the restore (the Iceberg sink re-commits the restored checkpoint while it initializes, before that).
 * A restore can therefore write a second receipt for a canary whose first one was written just before the failure:
 * receipts are at least once, each with its own committedAt.
 *
 * <p>Receipts are written through Flink's file system for the path ({@code s3a://}: the Hadoop S3 file system in the
 * JAR, as for the error files; a local path in tests) at {@code <root>/<Canary#receiptKey>}. A receipt that cannot be
 * written is logged and counted ({@code freshnessReceiptFailures}), never retried and never a job failure: it is a
 * measurement, the data is committed either way. Without a root the operator keeps nothing (canaries are still kept out
 * of the data by {@link ParseEvents}); it stays in the job either way, so adding or removing the root keeps the
 * savepoint's operators the same.
 *
 * <p>Run with parallelism 1: canaries are a few a minute, and one writer keeps the state in one place.
 */
public class FreshnessReceipts extends ProcessFunction<Canary, Void> implements CheckpointedFunction, CheckpointListener {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(FreshnessReceipts.class);
    /** Canaries restored from a checkpoint: committed by the restored checkpoint, written at the next completion. */
    private static final long RESTORED = Long.MIN_VALUE;

    /** Where receipts go (the output bucket's root), or null: no receipts. */
    private final String root;
    private transient ListState<Canary> state;
    /** Canaries seen since the last snapshot. */
    private transient List<Canary> sinceLastCheckpoint;
    /** Canaries by the checkpoint that covers them, until that checkpoint (or a later one) completes. */
    private transient TreeMap<Long, List<Canary>> awaiting;
    private transient Counter failures;

    public FreshnessReceipts(String root) {
        this.root = root == null ? null : root.replaceAll("/+$", "");
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        state = context.getOperatorStateStore().getListState(new ListStateDescriptor<>("freshness-canaries", TypeInformation.of(Canary.class)));
        sinceLastCheckpoint = new ArrayList<>();
        awaiting = new TreeMap<>();
        if (context.isRestored() && root != null) {
            List<Canary> restored = new ArrayList<>();
            state.get().forEach(restored::add);
            if (!restored.isEmpty()) {
                awaiting.put(RESTORED, restored);
                LOG.info("{} freshness canaries restored; their receipts follow the next completed checkpoint", restored.size());
            }
        }
    }

    @Override
    public void open(OpenContext openContext) {
        failures = JobMetrics.of(getRuntimeContext().getMetricGroup()).counter(JobMetrics.FRESHNESS_RECEIPT_FAILURES);
        if (root == null) LOG.info("No {}: freshness canaries are kept out of the data, no receipts are written", JobConfig.FRESHNESS_RECEIPTS_PATH);
    }

    @Override
    public void processElement(Canary canary, Context ctx, Collector<Void> out) {
        if (root != null) sinceLastCheckpoint.add(canary);
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        if (!sinceLastCheckpoint.isEmpty()) {
            awaiting.computeIfAbsent(context.getCheckpointId(), id -> new ArrayList<>()).addAll(sinceLastCheckpoint);
            sinceLastCheckpoint = new ArrayList<>();
        }
        List<Canary> pending = new ArrayList<>();
        awaiting.values().forEach(pending::addAll);
        state.update(pending);
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        long committedAt = System.currentTimeMillis();
        for (Iterator<Map.Entry<Long, List<Canary>>> it = awaiting.headMap(checkpointId, true).entrySet().iterator(); it.hasNext(); ) {
            for (Canary c : it.next().getValue()) write(c, committedAt);
            it.remove();
        }
    }

    /** One receipt, one attempt: a failure is logged and counted, never thrown. */
    void write(Canary c, long committedAt) {
        Path path = new Path(root + "/" + c.receiptKey(committedAt));
        try {
            FileSystem fs = path.getFileSystem();
            // OVERWRITE: S3A then skips the HEAD of the key (a LIST for a "directory" of that name only), and a key that
            // names its commit time is new anyway.
            try (FSDataOutputStream o = fs.create(path, FileSystem.WriteMode.OVERWRITE)) {
                o.write(c.receiptBody(committedAt));
            }
            LOG.info("Freshness receipt {}: {} ms from publish to commit", path, committedAt - c.publishedAtMs);
        } catch (Exception e) {
            failures.inc();
            LOG.warn("Freshness receipt {} not written (the data is committed; only this measurement is lost)", path, e);
        }
    }
}
