package dev.streamfoundry.flink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * What the CDK construct and this job agree on, read from {@value #RESOURCE} (the construct imports the same file):
 * the property group, the property names, the errors path scheme, the metric group and metric names, the freshness
 * canary's id prefix and receipts prefix. A name missing
 * from the file fails the class's initialization, so a rename on one side breaks the other side's tests.
 */
public final class JobContract {
    public static final String RESOURCE = "/stream-foundry-contract.json";
    private static final JsonNode CONTRACT = read();

    private JobContract() {
    }

    /** A top-level string, e.g. {@code propertyGroup}. */
    public static String value(String key) {
        return text(CONTRACT, key, key);
    }

    /** A runtime property's name, e.g. {@code topic} → {@code kafka.topic}. */
    public static String property(String key) {
        return text(CONTRACT.path("properties"), key, "properties." + key);
    }

    /** A freshness canary setting ({@code idPrefix}, {@code receiptsPrefix}), copied from platform/freshness/contract.json. */
    public static String canary(String key) {
        return text(CONTRACT.path("canary"), key, "canary." + key);
    }

    /** A metric's name, e.g. {@code eventsIn}. */
    public static String metric(String key) {
        return text(CONTRACT.path("metrics"), key, "metrics." + key);
    }

    private static String text(JsonNode parent, String key, String path) {
        JsonNode node = parent.get(key);
        if (node == null || !node.isTextual()) throw new IllegalStateException(RESOURCE + ": no string at " + path);
        return node.asText();
    }

    private static JsonNode read() {
        try (InputStream in = JobContract.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException(RESOURCE + " is not on the class path");
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
