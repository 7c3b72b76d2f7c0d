package dev.streamfoundry.flink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hash key's sources. GetSecretValue runs against a local HTTP endpoint answering as Secrets Manager does (JSON 1.1
 * protocol): the request the job makes (target, SecretId, signed for the ARN's region) and how it reads the answer.
 */
class HashKeyTest {
    private static final String ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:sf-hash-key-AbCdEf";

    @Test
    void localRunsReadTheEnvironmentAndNothingIsNull() {
        assertArrayEquals("k".getBytes(StandardCharsets.UTF_8), HashKey.resolve(Optional.empty(), Map.of(HashKey.ENV, "k")));
        assertNull(HashKey.resolve(Optional.empty(), Map.of()));
        assertNull(HashKey.resolve(Optional.empty(), Map.of(HashKey.ENV, "")));
        assertEquals(Optional.of("eu-west-1"), HashKey.regionOf(ARN));
    }

    @Test
    void getSecretValueOnceWithTheSecretsArnInItsRegion() throws Exception {
        List<String> targets = new ArrayList<>();
        List<JsonNode> bodies = new ArrayList<>();
        List<String> auth = new ArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            targets.add(exchange.getRequestHeaders().getFirst("X-Amz-Target"));
            auth.add(exchange.getRequestHeaders().getFirst("Authorization"));
            bodies.add(new ObjectMapper().readTree(exchange.getRequestBody()));
            byte[] answer = ("{\"ARN\":\"" + ARN + "\",\"Name\":\"sf-hash-key\",\"SecretString\":\"s3cr\u00e9t\",\"VersionId\":\"v1\","
                    + "\"VersionStages\":[\"AWSCURRENT\"]}").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/x-amz-json-1.1");
            exchange.sendResponseHeaders(200, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        server.start();
        try {
            byte[] key = HashKey.fromSecretsManager(ARN, b -> b
                    .endpointOverride(URI.create("http://127.0.0.1:" + server.getAddress().getPort()))
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDEXAMPLE", "secret"))));
            assertArrayEquals("s3cr\u00e9t".getBytes(StandardCharsets.UTF_8), key, "the secret string's UTF-8 bytes");
        } finally {
            server.stop(0);
        }
        assertEquals(List.of("secretsmanager.GetSecretValue"), targets, "one call");
        assertEquals(ARN, bodies.get(0).get("SecretId").asText());
        assertTrue(auth.get(0).contains("/eu-west-1/secretsmanager/aws4_request"), auth.get(0));
    }
}
