package dev.streamfoundry.flink;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DeduplicateByIdTest {

    private static KeyedOneInputStreamOperatorTestHarness<String, RowData, RowData> harness(Duration ttl) throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(new DeduplicateById(ttl)),
                new DeduplicateById.IdKey(0, true), Types.STRING);
    }

    private static RowData row(String id, long n) {
        return GenericRowData.of(StringData.fromString(id), n);
    }

    private static List<String> emitted(KeyedOneInputStreamOperatorTestHarness<String, RowData, RowData> h) {
        return h.extractOutputValues().stream().map(r -> r.getString(0) + "#" + r.getLong(1)).collect(Collectors.toList());
    }

    @Test
    void firstEventOfAnIdPassesLaterOnesAreDropped() throws Exception {
        try (var h = harness(Duration.ofMinutes(10))) {
            h.open();
            h.setStateTtlProcessingTime(0);
            h.processElement(row("a", 1), 0);
            h.processElement(row("b", 2), 0);
            h.processElement(row("a", 3), 0);
            h.processElement(row("b", 4), 0);
            h.processElement(row("c", 5), 0);
            assertEquals(List.of("a#1", "b#2", "c#5"), emitted(h));
            assertEquals(3, h.numKeyedStateEntries());
        }
    }

    @Test
    void stateExpiresAfterTheTtlSoItStaysBounded() throws Exception {
        try (var h = harness(Duration.ofMinutes(10))) {
            h.open();
            h.setStateTtlProcessingTime(0);
            h.processElement(row("a", 1), 0);
            h.setStateTtlProcessingTime(Duration.ofMinutes(9).toMillis());
            h.processElement(row("a", 2), 0);          // within TTL: dropped
            h.setStateTtlProcessingTime(Duration.ofMinutes(11).toMillis());
            h.processElement(row("a", 3), 0);          // TTL elapsed since first write: passes again
            assertEquals(List.of("a#1", "a#3"), emitted(h));
        }
    }

    @Test
    void seenIdsSurviveASnapshotAndRestore() throws Exception {
        OperatorSubtaskState snapshot;
        try (var h = harness(Duration.ofHours(1))) {
            h.open();
            h.setStateTtlProcessingTime(0);
            h.processElement(row("a", 1), 0);
            snapshot = h.snapshot(1, 1);
        }
        try (var h = harness(Duration.ofHours(1))) {
            h.setStateTtlProcessingTime(1000);
            h.initializeState(snapshot);
            h.open();
            h.processElement(row("a", 2), 0);
            h.processElement(row("b", 3), 0);
            assertEquals(List.of("b#3"), emitted(h));
        }
    }
}
