package dev.streamfoundry.flink;

import kafka.testkit.KafkaClusterTestKit;
import kafka.testkit.TestKitNodes;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

/** A real Kafka broker (KRaft, combined broker + controller) running in the test's JVM, from Kafka's own test kit. */
final class EmbeddedKafka implements AutoCloseable {
    private final KafkaClusterTestKit cluster;
    private final KafkaProducer<byte[], byte[]> producer;

    private EmbeddedKafka(KafkaClusterTestKit cluster) {
        this.cluster = cluster;
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        // One batch in flight per partition: a retried batch cannot leave later ones out of sequence. With five (the
        // default), a retry on a just-created topic under load ended in OutOfOrderSequenceException until the delivery
        // timeout, and the records were lost (CI, 2026-12-04).
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        this.producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    static EmbeddedKafka start() throws Exception {
        KafkaClusterTestKit cluster = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                .setCombined(true).setNumBrokerNodes(1).setNumControllerNodes(1).build())
                .setConfigProp("auto.create.topics.enable", "false") // like MSK Serverless
                .setConfigProp("offsets.topic.replication.factor", "1")
                .setConfigProp("offsets.topic.num.partitions", "1")
                .setConfigProp("transaction.state.log.replication.factor", "1")
                .setConfigProp("transaction.state.log.min.isr", "1")
                .setConfigProp("group.initial.rebalance.delay.ms", "0")
                .build();
        cluster.format();
        cluster.startup();
        cluster.waitForReadyBrokers();
        return new EmbeddedKafka(cluster);
    }

    String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    /** Creates the topic and returns once every partition has a leader (CreateTopics returns before that). */
    void createTopic(String name, int partitions) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!allLed(admin, name, partitions)) {
                if (System.nanoTime() > deadline) throw new AssertionError("Topic " + name + " has partitions without a leader after 60 s");
                Thread.sleep(100);
            }
        }
    }

    /** Whether the broker knows the topic with every partition led (until it does, it answers UnknownTopicOrPartition). */
    private static boolean allLed(Admin admin, String name, int partitions) throws InterruptedException {
        TopicDescription topic;
        try {
            topic = admin.describeTopics(List.of(name)).allTopicNames().get().get(name);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) return false;
            throw new IllegalStateException("describing topic " + name, e.getCause());
        }
        return topic.partitions().size() == partitions && topic.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty());
    }

    /** Sends and waits for the broker's acknowledgement of every record (no key); a record not written fails the test. */
    void send(String topic, List<byte[]> values) throws Exception {
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        for (byte[] v : values) sent.add(producer.send(new ProducerRecord<>(topic, v)));
        producer.flush();
        for (Future<RecordMetadata> f : sent) f.get(); // flush() does not throw for a failed send: the future does
    }

    /**
     * A sample consumer of a topic, as a customer would read the delivery topic: a plain KafkaConsumer from the
     * earliest offset (read_uncommitted, the default), every record up to the end offsets it finds when it starts.
     */
    List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).collect(Collectors.toList());
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) throw new AssertionError("Reading " + topic + " up to " + end + " took over 60 s");
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
            return out;
        }
    }

    KafkaProducer<byte[], byte[]> producer() {
        return producer;
    }

    @Override
    public void close() throws Exception {
        producer.close();
        cluster.close();
    }
}
