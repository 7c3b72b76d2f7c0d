package dev.streamfoundry.flink;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A freshness canary event (platform/freshness): an ordinary, schema-valid event of its source whose id field holds
 * {@link #ID_PREFIX} followed by its publish time in epoch milliseconds as 12 lower-case hex digits. The job recognises
 * it by the id alone, keeps it out of the table, the aggregates and the delivery topic, and writes a receipt for it once
 * the checkpoint that covered it is complete ({@link FreshnessReceipts}). The receipt's key and body are
 * platform/freshness/contract.ts's {@code receiptKey} and {@code receiptBody}, byte for byte.
 *
 * <p>A Flink POJO (public fields, no-argument constructor): it travels between operators and sits in operator state,
 * where the POJO serializer lets fields be added later without breaking a savepoint.
 */
public class Canary {
    /** From the contract file, which test/platform/freshness keeps equal to platform/freshness/contract.json. */
    public static final String ID_PREFIX = JobContract.canary("idPrefix");
    public static final String RECEIPTS_PREFIX = JobContract.canary("receiptsPrefix");
    /** platform/freshness/contract.json's canaryIdTimeDigits. */
    static final int TIME_DIGITS = 12;
    private static final Pattern ID = Pattern.compile("^" + Pattern.quote(ID_PREFIX) + "([0-9a-f]{" + TIME_DIGITS + "})$");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** JavaScript's Date.toISOString(): always milliseconds, always Z. */
    private static final DateTimeFormatter ISO = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    /** The source (its schema's name), as the receipt key names it. */
    public String source;
    public String id;
    public long publishedAtMs;

    public Canary() {
    }

    public Canary(String source, String id, long publishedAtMs) {
        this.source = source;
        this.id = id;
        this.publishedAtMs = publishedAtMs;
    }

    /** The publish time (epoch ms) a canary id carries, or -1 when {@code id} is not a canary id. */
    public static long publishedAt(String id) {
        if (id == null) return -1;
        Matcher m = ID.matcher(id);
        return m.matches() ? Long.parseLong(m.group(1), 16) : -1;
    }

    /** The canary id for a publish time (the canary's side; tests use it to make canaries). */
    public static String id(long publishedAtMs) {
        String hex = Long.toHexString(publishedAtMs);
        return ID_PREFIX + "0".repeat(Math.max(0, TIME_DIGITS - hex.length())) + hex;
    }

    /** {@code _freshness/<source>/<id>/<committed epoch ms>.json}: everything the reporter needs is in the key. */
    public String receiptKey(long committedAtMs) {
        return RECEIPTS_PREFIX + source + "/" + id + "/" + committedAtMs + ".json";
    }

    /** The receipt's JSON, as {@code JSON.stringify} writes receiptBody's object (field order, ISO times, seconds). */
    public byte[] receiptBody(long committedAtMs) {
        ObjectNode n = JSON.createObjectNode();
        n.put("source", source);
        n.put("id", id);
        n.put("publishedAt", ISO.format(Instant.ofEpochMilli(publishedAtMs)));
        n.put("committedAt", ISO.format(Instant.ofEpochMilli(committedAtMs)));
        long ms = committedAtMs - publishedAtMs;
        // A whole number of seconds as an integer (JavaScript prints 3, not 3.0 or 3E+0), else exact to the millisecond.
        if (ms % 1000 == 0) n.put("freshnessSeconds", ms / 1000);
        else n.put("freshnessSeconds", BigDecimal.valueOf(ms, 3).stripTrailingZeros());
        return n.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Canary)) return false;
        Canary c = (Canary) o;
        return publishedAtMs == c.publishedAtMs && Objects.equals(source, c.source) && Objects.equals(id, c.id);
    }

    @Override
    public int hashCode() {
        return Objects.hash(source, id, publishedAtMs);
    }

    @Override
    public String toString() {
        return source + "/" + id;
    }
}
