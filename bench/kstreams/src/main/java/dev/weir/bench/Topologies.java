package dev.weir.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.EmitStrategy;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;

/** The three bench workloads as Kafka Streams topologies, each doing Weir's work per record. */
final class Topologies {
  private Topologies() {}

  /** Workload 1: parse each JSON value and write it back (Weir: `.map(identity)` between JSON serdes). */
  static void passthrough(StreamsBuilder b, String input, String output, KStreamsBench.Probe probe) {
    b.stream(input, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
        .peek((k, v) -> probe.saw())
        .mapValues(v -> KStreamsBench.write(KStreamsBench.readTree(v)))
        .to(output, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
  }

  /**
   * Workload 2 (the traffic app, seed 001): parse → flatten → validate → enrich → key by sensor_id →
   * output; a record that is not JSON or fails validation → the dead-letter topic, original bytes and
   * headers saying why, where from and when.
   */
  static void traffic(StreamsBuilder b, String input, String output, String dlq, KStreamsBench.Probe probe) {
    KStream<byte[], Traffic.Checked> checked =
        b.stream(input, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
            .peek((k, v) -> probe.saw())
            .mapValues(Traffic::check);
    Map<String, KStream<byte[], Traffic.Checked>> branches =
        checked
            .split(Named.as("traffic-"))
            .branch((k, c) -> c.violations() == null, Branched.as("valid"))
            .defaultBranch(Branched.as("invalid"));
    branches
        .get("traffic-valid")
        .map((k, c) -> KeyValue.pair(c.sensorId(), Traffic.enrich(c.flat())))
        .to(output, Produced.with(Serdes.String(), Serdes.ByteArray()));
    branches
        .get("traffic-invalid")
        .processValues(DeadLetter::new)
        .to(dlq, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
  }

  /**
   * Workload 3 (seed 002 §2.2, Weir's traffic-windows): 5-minute tumbling windows per sensor on event
   * time (the JSON timestamp), 1 minute grace, one result per window when it closes, state in a
   * changelogged store; avg_speed, avg_volume, avg_occupancy, speed_variance (Welford), message_count.
   */
  static void windows(StreamsBuilder b, String input, String output, KStreamsBench.Probe probe) {
    b.stream(
            input,
            Consumed.with(Serdes.String(), Windows.EVENT_SERDE).withTimestampExtractor(new Windows.EventTime()))
        .peek((k, v) -> probe.saw())
        .groupByKey(Grouped.with(Serdes.String(), Windows.EVENT_SERDE))
        .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMinutes(5), Duration.ofMinutes(1)))
        .emitStrategy(EmitStrategy.onWindowClose())
        .aggregate(
            Windows.State::new,
            (key, event, state) -> state.add(event),
            Materialized.with(Serdes.String(), Windows.STATE_SERDE))
        .toStream()
        .map((w, s) -> KeyValue.pair(w.key(), Windows.result(w, s)))
        .to(output, Produced.with(Serdes.String(), Serdes.ByteArray()));
  }

  static String text(JsonNode n) {
    return n == null || n.isNull() ? null : n.asText();
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
