package dev.weir.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;

/**
 * One Kafka Streams run of a Weir bench workload, measured the way bench/child.ts measures Weir:
 *
 * <pre>
 * java -cp target/classes:target/libs/* dev.weir.bench.KStreamsBench run --workload passthrough|traffic|windows
 *     --brokers 127.0.0.1:9092 --input t --output t2 --dlq t3 --application-id a --partitions 5 --records 500000
 *     [--guarantee at_least_once|exactly_once_v2] [--commit-interval-ms 100] [--producer batch.size=262144]...
 * java ... dev.weir.bench.KStreamsBench compare --workload traffic --brokers ... --a topicA --b topicB
 * </pre>
 *
 * The input is the one Weir's run of the same round reads; output and dead-letter topics are its own
 * (created here as Weir's run creates its own: the input's partitions, dead letters in one). The clock starts at the first record the topology sees
 * and stops when output + dead-letter end offsets reach the input count (pass-through, traffic), or when
 * every input record has been processed (windows). The last stdout line is one JSON object.
 */
public final class KStreamsBench {
  static final ObjectMapper JSON = new ObjectMapper();

  public static void main(String[] argv) throws Exception {
    Map<String, List<String>> a = parse(argv);
    String mode = argv.length > 0 ? argv[0] : "";
    Object result =
        switch (mode) {
          case "run" -> run(a);
          case "compare" -> Compare.run(one(a, "workload"), one(a, "brokers"), one(a, "a"), one(a, "b"));
          default -> throw new IllegalArgumentException("mode must be run or compare, got '" + mode + "'");
        };
    System.out.println(JSON.writeValueAsString(result));
    System.out.flush();
    System.exit(0);
  }

  static Map<String, Object> run(Map<String, List<String>> a) throws Exception {
    String workload = one(a, "workload");
    String brokers = one(a, "brokers");
    String input = one(a, "input"), output = one(a, "output"), dlq = one(a, "dlq");
    int partitions = Integer.parseInt(one(a, "partitions"));
    long records = Long.parseLong(one(a, "records"));
    RssSampler rss = RssSampler.start();

    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers))) {
      checkInput(admin, input, partitions, records);
      // As Weir's run creates its output topics (same partitions as the input; dead letters in one).
      List<NewTopic> topics = List.of(new NewTopic(output, partitions, (short) 1), new NewTopic(dlq, 1, (short) 1));
      try {
        admin.createTopics(topics).all().get(30, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) throw e;
      }
    }

    Probe probe = new Probe();
    StreamsBuilder builder = new StreamsBuilder();
    switch (workload) {
      case "passthrough" -> Topologies.passthrough(builder, input, output, probe);
      case "traffic" -> Topologies.traffic(builder, input, output, dlq, probe);
      case "windows" -> Topologies.windows(builder, input, output, probe);
      default -> throw new IllegalArgumentException("workload must be passthrough, traffic or windows");
    }
    Topology topology = builder.build();

    Path stateDir = Files.createTempDirectory("weir-bench-kstreams-");
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, one(a, "application-id"));
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, a.getOrDefault("guarantee", List.of("at_least_once")).get(0));
    if (a.containsKey("commit-interval-ms")) p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, one(a, "commit-interval-ms"));
    for (String kv : a.getOrDefault("producer", List.of())) {
      int eq = kv.indexOf('=');
      p.put(StreamsConfig.producerPrefix(kv.substring(0, eq)), kv.substring(eq + 1));
    }

    KafkaStreams streams = new KafkaStreams(topology, p);
    streams.setUncaughtExceptionHandler(
        e -> {
          e.printStackTrace();
          System.exit(2);
          return null;
        });
    streams.start();
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long startBy = System.currentTimeMillis() + 180_000;
    while (probe.firstNanos.get() == 0) {
      if (System.currentTimeMillis() > startBy)
        throw new IllegalStateException("no record consumed within 180 s (state " + streams.state() + ")");
      Thread.sleep(2);
    }
    long t0 = probe.firstNanos.get();
    long cpu0 = probe.firstCpuNanos;
    boolean byOffsets = !workload.equals("windows");
    // Exactly-once: done when the committed input offsets reach the end (the last transaction committed);
    // end offsets would count the transaction markers too. As bench/child.ts does for Weir.
    boolean byCommits = !p.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG).equals("at_least_once");
    String group = one(a, "application-id");
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers))) {
      List<TopicPartition> outs = new ArrayList<>();
      for (int i = 0; i < partitions; i++) outs.add(new TopicPartition(output, i));
      outs.add(new TopicPartition(dlq, 0));
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      for (TopicPartition tp : outs) latest.put(tp, OffsetSpec.latest());
      for (; ; ) {
        if (byCommits) {
          long n = 0;
          for (var o : admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().values())
            if (o != null) n += o.offset();
          if (n >= records) break;
          Thread.sleep(20);
        } else if (byOffsets) {
          long n = 0;
          for (var o : admin.listOffsets(latest).all().get().values()) n += o.offset();
          if (n >= records) break;
          Thread.sleep(20);
        } else {
          if (probe.seen.get() >= records) break;
          Thread.sleep(5);
        }
      }
    }
    long t1 = System.nanoTime();
    long cpu1 = os.getProcessCpuTime();
    streams.close(Duration.ofSeconds(60));
    streams.cleanUp();
    rss.stop();
    deleteTree(stateDir);
    double seconds = (t1 - t0) / 1e9;
    double cpuSeconds = (cpu1 - cpu0) / 1e9;
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("records", records);
    r.put("seconds", seconds);
    r.put("recordsPerSec", records / seconds);
    r.put("consumed", probe.seen.get());
    // When the topology had seen its last input record (pass-through and traffic then wait for the output).
    r.put("consumedSeconds", (probe.lastNanos - t0) / 1e9);
    r.put("peakRssMb", rss.peakMb());
    r.put("hwmRssMb", RssSampler.statusMb("VmHWM"));
    r.put("cpuSeconds", cpuSeconds);
    r.put("cpuSecondsPerMillion", cpuSeconds / (records / 1e6));
    r.put("guarantee", p.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG));
    r.put("producer", a.getOrDefault("producer", List.of()));
    return r;
  }

  /** The input is whole (every partition from offset 0, `records` in all) before the clock starts. */
  static void checkInput(Admin admin, String input, int partitions, long records) throws Exception {
    Map<TopicPartition, OffsetSpec> earliest = new HashMap<>(), latest = new HashMap<>();
    for (int i = 0; i < partitions; i++) {
      earliest.put(new TopicPartition(input, i), OffsetSpec.earliest());
      latest.put(new TopicPartition(input, i), OffsetSpec.latest());
    }
    long n = 0, trimmed = 0;
    for (var o : admin.listOffsets(earliest).all().get().values()) trimmed += o.offset();
    for (var o : admin.listOffsets(latest).all().get().values()) n += o.offset();
    if (trimmed != 0 || n != records)
      throw new IllegalStateException(
          "bench input " + input + " is not whole: " + n + " records for " + records + ", " + trimmed + " deleted");
  }

  /** Counts records as the topology first sees them; the first one starts the clock. */
  static final class Probe {
    final AtomicLong seen = new AtomicLong();
    final AtomicLong firstNanos = new AtomicLong();
    volatile long firstCpuNanos;

    volatile long lastNanos;

    void saw() {
      lastNanos = System.nanoTime();
      if (seen.getAndIncrement() == 0) {
        firstCpuNanos =
            ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
        firstNanos.set(System.nanoTime());
      }
    }
  }

  static JsonNode readTree(byte[] bytes) {
    try {
      return JSON.readTree(bytes);
    } catch (java.io.IOException e) {
      return null;
    }
  }

  static byte[] write(Object value) {
    try {
      return JSON.writeValueAsBytes(value);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static Map<String, List<String>> parse(String[] argv) {
    Map<String, List<String>> m = new HashMap<>();
    for (int i = 1; i + 1 < argv.length; i += 2) {
      if (!argv[i].startsWith("--")) throw new IllegalArgumentException("expected --name value, got " + argv[i]);
      m.computeIfAbsent(argv[i].substring(2), k -> new ArrayList<>()).add(argv[i + 1]);
    }
    return m;
  }

  static String one(Map<String, List<String>> a, String name) {
    List<String> v = a.get(name);
    if (v == null || v.isEmpty()) throw new IllegalArgumentException("--" + name + " is required");
    return v.get(0);
  }

  static void deleteTree(Path dir) {
    try (var walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (java.io.IOException ignored) {
      // a temp dir left behind is not worth failing a finished run
    }
  }
}
