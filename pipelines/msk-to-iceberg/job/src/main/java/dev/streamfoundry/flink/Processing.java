package dev.streamfoundry.flink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A source's processing document (docs/processing-rules.md, "For engine authors"), written by synth and shipped in the
 * JAR as {@code schemas/<source>.processing.json}: the validated rules, the events table's schema after the transforms
 * ({@code outputSchema}) and the aggregates table's ({@code aggregateSchema}, null without an {@code aggregate}
 * section). Kept as JSON text so operators can carry it (Serializable) and compile the rules when they open.
 */
public final class Processing implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    public final String source;
    public final String idField;
    public final String eventTimeField;
    private final String rules;
    private final SourceSchema output;
    private final SourceSchema aggregates;

    private Processing(JsonNode doc, String reference) {
        for (String member : new String[] {"source", "idField", "eventTimeField", "rules", "outputSchema"}) {
            if (!doc.hasNonNull(member)) {
                throw new IllegalArgumentException(JobConfig.PROCESSING + " '" + reference + "': the processing document has no " + member);
            }
        }
        this.source = doc.get("source").asText();
        this.idField = doc.get("idField").asText();
        this.eventTimeField = doc.get("eventTimeField").asText();
        this.rules = doc.get("rules").toString();
        this.output = SourceSchema.fromJson(SourceSchema.nameOf(source), doc.get("outputSchema").toString());
        JsonNode agg = doc.get("aggregateSchema");
        boolean hasAggregate = doc.get("rules").hasNonNull("aggregate");
        if (hasAggregate && (agg == null || agg.isNull())) {
            throw new IllegalArgumentException(JobConfig.PROCESSING + " '" + reference + "': rules.aggregate without an aggregateSchema");
        }
        this.aggregates = hasAggregate ? SourceSchema.fromJson(SourceSchema.nameOf(source) + "_aggregates", agg.toString()) : null;
    }

    public static Processing fromJson(String json, String reference) {
        try {
            return new Processing(MAPPER.readTree(json), reference);
        } catch (IOException e) {
            throw new IllegalArgumentException(JobConfig.PROCESSING + " '" + reference + "' is not valid JSON: " + e.getMessage(), e);
        }
    }

    /** Inline JSON (starts with '{'), a class-path resource ({@code schemas/clickstream.processing.json}) or a file. */
    public static Processing load(String reference) {
        String r = reference.trim();
        if (r.startsWith("{")) return fromJson(r, "inline");
        String text;
        String resource = r.startsWith("/") ? r.substring(1) : r;
        try (InputStream in = Processing.class.getClassLoader().getResourceAsStream(resource)) {
            text = in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (text == null) {
            try {
                text = Files.readString(Path.of(r), StandardCharsets.UTF_8);
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException(JobConfig.PROCESSING + " '" + reference + "': no such resource in the JAR "
                        + "(schemas/<source>.processing.json) and no readable file", e);
            }
        }
        return fromJson(text, reference);
    }

    /** The rules file as written (validated at synth). */
    public JsonNode rules() {
        try {
            return MAPPER.readTree(rules);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The events table's schema (after the transforms). */
    public SourceSchema outputSchema() {
        return output;
    }

    /** The aggregates table's schema, or null when the rules have no aggregate section. */
    public SourceSchema aggregateSchema() {
        return aggregates;
    }

    public boolean hasAggregate() {
        return aggregates != null;
    }

    public boolean needsHashKey() {
        return RuleEngine.needsHashKey(rules());
    }
}
