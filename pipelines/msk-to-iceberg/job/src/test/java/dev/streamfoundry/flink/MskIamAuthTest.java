package dev.streamfoundry.flink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.msk.auth.iam.IAMClientCallbackHandler;
import software.amazon.msk.auth.iam.internals.AWS4SignedPayloadGenerator;
import software.amazon.msk.auth.iam.internals.AWSCredentialsCallback;
import software.amazon.msk.auth.iam.internals.AuthenticationRequestParams;

import javax.security.auth.callback.Callback;
import javax.security.auth.login.AppConfigurationEntry;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * MSK IAM authentication with the classes the JAR ships (aws-msk-iam-auth on iceberg-aws-bundle's AWS SDK): the
 * callback handler resolves credentials through the SDK's default chain (here from system properties; in Managed
 * Flink the application role) and the client signs the kafka-cluster:Connect payload. No AWS call is made.
 */
class MskIamAuthTest {
    private static final Map<String, String> PROPS = Map.of("aws.accessKeyId", "AKIDEXAMPLE",
            "aws.secretAccessKey", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "aws.region", "eu-west-1");

    @BeforeEach
    void credentials() {
        PROPS.forEach(System::setProperty);
    }

    @AfterEach
    void clear() {
        PROPS.keySet().forEach(System::clearProperty);
    }

    @Test
    void iamCallbackHandlerResolvesCredentialsAndSignsTheConnectPayload() throws Exception {
        IAMClientCallbackHandler handler = new IAMClientCallbackHandler();
        handler.configure(Map.of(), "AWS_MSK_IAM", List.of(new AppConfigurationEntry(
                "software.amazon.msk.auth.iam.IAMLoginModule", AppConfigurationEntry.LoginModuleControlFlag.REQUIRED, Map.of())));
        AWSCredentialsCallback callback = new AWSCredentialsCallback();
        handler.handle(new Callback[] {callback});
        assertTrue(callback.isSuccessful(), String.valueOf(callback.getLoadingException()));
        assertEquals("AKIDEXAMPLE", callback.getAwsCredentials().accessKeyId());

        AuthenticationRequestParams params = AuthenticationRequestParams.create(
                "b-1.cluster.abc123.c2.kafka.eu-west-1.amazonaws.com", callback.getAwsCredentials(), "stream-foundry-test");
        JsonNode payload = new ObjectMapper().readTree(new AWS4SignedPayloadGenerator().signedPayload(params));
        assertEquals("kafka-cluster:Connect", payload.get("action").asText());
        assertEquals("AWS4-HMAC-SHA256", payload.get("x-amz-algorithm").asText());
        assertTrue(payload.get("x-amz-credential").asText().startsWith("AKIDEXAMPLE/"), payload.toString());
        assertTrue(payload.get("x-amz-credential").asText().contains("/eu-west-1/kafka-cluster/aws4_request"), payload.toString());
        assertEquals(64, payload.get("x-amz-signature").asText().length());
    }

    @Test
    void kafkaClientAcceptsTheJobsIamSettings() {
        Properties p = IcebergIngestJob.kafkaSecurity(JobConfig.Auth.IAM);
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9098");
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "g");
        // Builds the SASL_SSL channel: loads IAMLoginModule and IAMClientCallbackHandler by name (no connection yet).
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer()).close();
    }

    /** The delivery sink's producer settings (IAM, acks=all, idempotence, lz4) make a valid Kafka producer. */
    @Test
    void kafkaProducerAcceptsTheDeliverySinksSettings() {
        Map<String, String> m = new java.util.HashMap<>(JobConfigTest.minimal());
        m.put(JobConfig.DELIVERY_TOPIC, "clickstream.delivered");
        Properties p = IcebergIngestJob.producerProperties(JobConfig.of(m));
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9098");
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer()).close(java.time.Duration.ZERO);
    }
}
