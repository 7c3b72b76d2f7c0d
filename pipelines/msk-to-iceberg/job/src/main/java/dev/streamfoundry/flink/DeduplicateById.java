package dev.streamfoundry.flink;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.table.data.RowData;
import org.apache.flink.util.Collector;

import java.time.Duration;

/**
 * Passes the first event of each id and drops later ones seen within the TTL. The state is one flag per id, expired
 * {@code ttl} after it was written (processing time), so it stays bounded: ids/second x TTL entries. The state is
 * checkpointed with the sink's pending commits, so a restart neither loses nor re-emits an event.
 */
public class DeduplicateById extends KeyedProcessFunction<String, RowData, RowData> {
    private static final long serialVersionUID = 1L;
    public static final String METRIC_DUPLICATES = JobMetrics.DUPLICATES_DROPPED;

    private final Duration ttl;
    private transient ValueState<Boolean> seen;
    private transient Counter duplicates;

    public DeduplicateById(Duration ttl) {
        this.ttl = ttl;
    }

    @Override
    public void open(OpenContext openContext) {
        StateTtlConfig ttlConfig = StateTtlConfig.newBuilder(ttl)
                .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                .cleanupFullSnapshot()
                .build();
        ValueStateDescriptor<Boolean> d = new ValueStateDescriptor<>("seen", Types.BOOLEAN);
        d.enableTimeToLive(ttlConfig);
        seen = getRuntimeContext().getState(d);
        duplicates = JobMetrics.of(getRuntimeContext().getMetricGroup()).counter(METRIC_DUPLICATES);
    }

    @Override
    public void processElement(RowData row, Context ctx, Collector<RowData> out) throws Exception {
        if (seen.value() == null) {
            seen.update(Boolean.TRUE);
            out.collect(row);
        } else {
            duplicates.inc();
        }
    }

    /** The event id at a top-level position (string or integer column) as the key. */
    public static final class IdKey implements KeySelector<RowData, String> {
        private static final long serialVersionUID = 1L;
        private final int position;
        private final boolean isString;

        public IdKey(int position, boolean isString) {
            this.position = position;
            this.isString = isString;
        }

        @Override
        public String getKey(RowData row) {
            return isString ? row.getString(position).toString() : Long.toString(row.getLong(position));
        }
    }
}
