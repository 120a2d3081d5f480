package dev.weir.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * Seed 002's 5-minute window aggregate as Weir computes it (src/apps/traffic/domain/window.ts): Welford's
 * running mean and M2 of the speed, sums of volume and occupancy.
 */
final class Windows {
  private Windows() {}

  /** What a window needs from a validated event; parsed once, by the source's deserializer. */
  record Event(double speed, double volume, Double occupancy, long timestampMs) {}

  /** Event time from the JSON `timestamp`, as Weir's traffic-windows pipeline reads it. */
  static final class EventTime implements TimestampExtractor {
    @Override
    public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
      return record.value() instanceof Event e ? e.timestampMs() : partitionTime;
    }
  }

  static final class State {
    long count;
    double speedMean;
    double speedM2;
    double volumeSum;
    double occupancySum;
    long occupancyCount;

    State add(Event e) {
      count++;
      double delta = e.speed() - speedMean;
      speedMean += delta / count;
      speedM2 += delta * (e.speed() - speedMean);
      volumeSum += e.volume();
      if (e.occupancy() != null) {
        occupancySum += e.occupancy();
        occupancyCount++;
      }
      return this;
    }
  }

  static byte[] result(Windowed<String> w, State s) {
    ObjectNode o = Traffic.NODES.objectNode();
    long n = s.count;
    o.put("sensor_id", w.key());
    o.put("window_start", w.window().start());
    o.put("window_end", w.window().end());
    o.put("avg_speed", n == 0 ? 0 : s.speedMean);
    o.put("avg_volume", n == 0 ? 0 : s.volumeSum / n);
    if (s.occupancyCount == 0) o.putNull("avg_occupancy");
    else o.put("avg_occupancy", s.occupancySum / s.occupancyCount);
    o.put("speed_variance", n == 0 ? 0 : s.speedM2 / n);
    o.put("message_count", n);
    return KStreamsBench.write(o);
  }

  /** Reads the JSON event; never writes one (the input is keyed by sensor, so nothing is repartitioned). */
  static final Serde<Event> EVENT_SERDE =
      Serdes.serdeFrom(
          (Serializer<Event>)
              (topic, e) -> {
                throw new UnsupportedOperationException("events are never written (no repartition)");
              },
          (Deserializer<Event>)
              (topic, bytes) -> {
                if (bytes == null) return null;
                JsonNode j = KStreamsBench.readTree(bytes);
                if (j == null) throw new IllegalArgumentException("not JSON");
                JsonNode occ = j.get("occupancy");
                return new Event(
                    j.get("speed").asDouble(),
                    j.get("volume").asDouble(),
                    occ == null || !occ.isNumber() ? null : occ.asDouble(),
                    Traffic.epochMs(j.get("timestamp")));
              });

  static final Serde<State> STATE_SERDE =
      Serdes.serdeFrom(
          (Serializer<State>)
              (topic, s) ->
                  ByteBuffer.allocate(48)
                      .putLong(s.count)
                      .putDouble(s.speedMean)
                      .putDouble(s.speedM2)
                      .putDouble(s.volumeSum)
                      .putDouble(s.occupancySum)
                      .putLong(s.occupancyCount)
                      .array(),
          (Deserializer<State>)
              (topic, bytes) -> {
                if (bytes == null) return null;
                ByteBuffer b = ByteBuffer.wrap(bytes);
                State s = new State();
                s.count = b.getLong();
                s.speedMean = b.getDouble();
                s.speedM2 = b.getDouble();
                s.volumeSum = b.getDouble();
                s.occupancySum = b.getDouble();
                s.occupancyCount = b.getLong();
                return s;
              });
}
