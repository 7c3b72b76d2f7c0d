package dev.streamfoundry.flink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What this engine adds around the shared semantics (those are test/rules/*.cases.json, RuleCasesTest): how it fails
 * on rules synth would not have let through, and the paths the cases do not reach yet.
 */
class RuleEngineTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SCHEMA = "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\"},"
            + "\"email\":{\"type\":\"string\"},\"device\":{\"type\":\"object\",\"properties\":{\"os\":{\"type\":\"string\"}}}}}";

    private static JsonNode json(String s) throws Exception {
        return JSON.readTree(s);
    }

    @Test
    void aHashingRuleWithoutAKeyFailsAtStartNamingWhereTheKeyComesFrom() throws Exception {
        JsonNode rules = json("{\"transform\":[{\"name\":\"pseudo\",\"mask\":\"email\",\"with\":\"hash\"}]}");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new RuleEngine(json(SCHEMA), rules, null));
        assertTrue(e.getMessage().contains(JobConfig.HASH_KEY_SECRET) && e.getMessage().contains(HashKey.ENV), e.getMessage());
        assertTrue(RuleEngine.needsHashKey(rules));
        new RuleEngine(json(SCHEMA), json("{\"transform\":[{\"name\":\"m\",\"mask\":\"email\",\"with\":\"fixed\"}]}"), null);
    }

    @Test
    void anUnknownFieldFailsAtStartNamingTheRule() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new RuleEngine(json(SCHEMA),
                json("{\"filter\":[{\"name\":\"web\",\"keep\":{\"field\":\"device.model\",\"eq\":\"x\"}}]}"), null));
        assertEquals("rule web: unknown field device.model", e.getMessage());
    }

    @Test
    void existsIsNeverAnErrorEvenThroughANonObjectWhileOtherOperatorsSayWhatTheyFound() throws Exception {
        RuleEngine exists = new RuleEngine(json(SCHEMA), json("{\"filter\":[{\"name\":\"has-os\",\"keep\":{\"field\":\"device.os\",\"exists\":true}}]}"), null);
        RuleEngine.Result r = exists.apply((ObjectNode) json("{\"id\":\"1\",\"device\":\"phone\"}"));
        assertEquals(RuleEngine.Result.Kind.FILTERED, r.kind);
        RuleEngine eq = new RuleEngine(json(SCHEMA), json("{\"filter\":[{\"name\":\"ios\",\"keep\":{\"field\":\"device.os\",\"eq\":\"ios\"}}]}"), null);
        assertEquals("rule ios: field device is string, expected object", eq.apply((ObjectNode) json("{\"id\":\"1\",\"device\":\"phone\"}")).detail);
        assertEquals("rule ios: field device.os is missing", eq.apply((ObjectNode) json("{\"id\":\"1\",\"device\":null}")).detail);
    }
}
