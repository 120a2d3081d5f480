package dev.weir.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Are two runs' outputs the same records? Reads both topics whole and compares them as multisets:
 * key + JSON value with the per-run fields left out (processed_at, the wall-clock stamp), numbers compared
 * as numbers; for windows, one result per (sensor, window start) with aggregates equal to 1e-9 relative.
 */
final class Compare {
  private Compare() {}

  static Map<String, Object> run(String workload, String brokers, String a, String b) {
    Map<String, Integer> ca = count(workload, brokers, a);
    Map<String, Integer> cb = count(workload, brokers, b);
    long onlyA = 0, onlyB = 0, same = 0, na = 0, nb = 0;
    List<String> sample = new ArrayList<>();
    for (var e : ca.entrySet()) {
      int x = e.getValue(), y = cb.getOrDefault(e.getKey(), 0);
      na += x;
      same += Math.min(x, y);
      if (x > y) {
        onlyA += x - y;
        if (sample.size() < 3) sample.add("only in " + a + ": " + e.getKey());
      }
    }
    for (var e : cb.entrySet()) {
      int y = e.getValue(), x = ca.getOrDefault(e.getKey(), 0);
      nb += y;
      if (y > x) {
        onlyB += y - x;
        if (sample.size() < 6) sample.add("only in " + b + ": " + e.getKey());
      }
    }
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("workload", workload);
    r.put("a", a);
    r.put("b", b);
    r.put("recordsA", na);
    r.put("recordsB", nb);
    r.put("same", same);
    r.put("onlyA", onlyA);
    r.put("onlyB", onlyB);
    r.put("equal", onlyA == 0 && onlyB == 0);
    r.put("sample", sample);
    return r;
  }

  /** Each record of the topic as a canonical text, counted. */
  static Map<String, Integer> count(String workload, String brokers, String topic) {
    Map<String, Object> c = new HashMap<>();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
    Map<String, Integer> counts = new HashMap<>();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c)) {
      List<TopicPartition> tps = new ArrayList<>();
      for (PartitionInfo p : consumer.partitionsFor(topic)) tps.add(new TopicPartition(topic, p.partition()));
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      Map<TopicPartition, Long> end = consumer.endOffsets(tps);
      while (tps.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          counts.merge(canonical(workload, r), 1, Integer::sum);
        }
      }
    }
    return counts;
  }

  static String canonical(String workload, ConsumerRecord<byte[], byte[]> r) {
    String key = r.key() == null ? "null" : new String(r.key(), StandardCharsets.UTF_8);
    JsonNode v = r.value() == null ? null : KStreamsBench.readTree(r.value());
    if (v instanceof ObjectNode o) {
      o.remove("processed_at");
      if (workload.equals("windows")) {
        // Aggregates rounded to 9 significant digits: Weir and the JVM sum in the same order but
        // print doubles differently.
        for (String f : new String[] {"avg_speed", "avg_volume", "avg_occupancy", "speed_variance"}) {
          JsonNode n = o.get(f);
          if (n != null && n.isNumber()) o.put(f, String.format("%.9g", n.asDouble()));
        }
      }
      return key + " " + sorted(o);
    }
    return key + " " + (v == null ? "raw:" + (r.value() == null ? "null" : r.value().length) : sorted(v));
  }

  /** JSON text with object keys sorted and numbers as doubles, so 2203 and 2203.0 compare equal. */
  static String sorted(JsonNode n) {
    if (n.isObject()) {
      List<String> names = new ArrayList<>();
      n.fieldNames().forEachRemaining(names::add);
      names.sort(null);
      StringBuilder s = new StringBuilder("{");
      for (String name : names) s.append(name).append(':').append(sorted(n.get(name))).append(',');
      return s.append('}').toString();
    }
    if (n.isArray()) {
      StringBuilder s = new StringBuilder("[");
      for (JsonNode x : n) s.append(sorted(x)).append(',');
      return s.append(']').toString();
    }
    if (n.isNumber()) return Double.toString(n.asDouble());
    return n.toString();
  }
}
