package dev.streamfoundry.flink;

import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClientBuilder;
import software.amazon.awssdk.services.secretsmanager.model.GetSecretValueRequest;
import software.amazon.awssdk.services.secretsmanager.model.GetSecretValueResponse;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The key of {@code mask … with: hash} (docs/processing-rules.md): the Secrets Manager secret named by
 * {@code rules.hash.key.secret}, read once when an operator opens; locally (tests, LocalJob) the environment variable
 * {@link #ENV} instead. The key is the secret's string value as UTF-8 bytes (its binary value when it has no string).
 */
public final class HashKey {
    public static final String ENV = "STREAM_FOUNDRY_HASH_KEY";

    private HashKey() {
    }

    /** The key, or null when the job has neither a secret nor the environment variable. */
    public static byte[] resolve(Optional<String> secretArn) {
        return resolve(secretArn, System.getenv());
    }

    static byte[] resolve(Optional<String> secretArn, Map<String, String> env) {
        if (secretArn.isPresent()) return fromSecretsManager(secretArn.get());
        String local = env.get(ENV);
        return local == null || local.isEmpty() ? null : local.getBytes(StandardCharsets.UTF_8);
    }

    /** GetSecretValue (AWSCURRENT), in the secret's own region (from its ARN), with the application role's credentials. */
    static byte[] fromSecretsManager(String arn) {
        return fromSecretsManager(arn, b -> { });
    }

    /** As above; {@code customize} adjusts the client (the test points it at a local endpoint). */
    static byte[] fromSecretsManager(String arn, Consumer<SecretsManagerClientBuilder> customize) {
        SecretsManagerClientBuilder builder = SecretsManagerClient.builder();
        regionOf(arn).ifPresent(r -> builder.region(Region.of(r)));
        customize.accept(builder);
        try (SecretsManagerClient client = builder.build()) {
            GetSecretValueResponse r = client.getSecretValue(GetSecretValueRequest.builder().secretId(arn).build());
            if (r.secretString() != null) return r.secretString().getBytes(StandardCharsets.UTF_8);
            SdkBytes binary = r.secretBinary();
            if (binary == null) throw new IllegalStateException(JobConfig.HASH_KEY_SECRET + " " + arn + ": the secret has no value");
            return binary.asByteArray();
        }
    }

    /** arn:partition:secretsmanager:REGION:account:secret:name. */
    static Optional<String> regionOf(String arn) {
        String[] parts = arn.split(":", 6);
        return parts.length == 6 && parts[0].equals("arn") && !parts[3].isEmpty() ? Optional.of(parts[3]) : Optional.empty();
    }
}
