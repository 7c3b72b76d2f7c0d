package dev.streamfoundry.flink;

/** A JSON Schema construct that has no faithful Iceberg type; the message names the schema location and why. */
public class UnsupportedSchemaException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public UnsupportedSchemaException(String pointer, String message) {
        super("JSON Schema at " + (pointer.isEmpty() ? "/" : pointer) + ": " + message);
    }
}
