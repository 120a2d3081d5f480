package dev.weir.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * Seed 001's per-record work as Weir's traffic app does it (src/apps/traffic/domain/flatten.ts,
 * src/rules/presets.ts flatTrafficRules, the enrich step in src/apps/traffic/app.ts): flatten the nested
 * METR-LA reading, collect every violation, stamp processed_at / processor_id / validation_status.
 */
final class Traffic {
  private Traffic() {}

  static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  static final long CLOCK_SKEW_MS = 60_000;
  static final long YEAR_MS = 365L * 24 * 3600 * 1000;
  /** Weir's bench runs the traffic pipeline with CLIENT_ID 'bench'. */
  static final String PROCESSOR_ID = "bench";
  /** Like JavaScript's Date.toISOString: always milliseconds. */
  static final DateTimeFormatter ISO_MILLIS =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  /** The original bytes, the flat record (null if not JSON), and the violations (null when valid). */
  record Checked(byte[] raw, ObjectNode flat, String sensorId, ArrayNode violations) {}

  static Checked check(byte[] raw) {
    JsonNode r = KStreamsBench.readTree(raw);
    if (r == null || !r.isObject()) {
      ArrayNode v = NODES.arrayNode();
      v.add(violation("json", "deserialize", "", "value is not a JSON object"));
      return new Checked(raw, null, null, v);
    }
    ObjectNode flat = flatten(r);
    ArrayNode violations = validate(flat, System.currentTimeMillis());
    return new Checked(raw, flat, Topologies.text(flat.get("sensor_id")), violations.isEmpty() ? null : violations);
  }

  static ObjectNode flatten(JsonNode r) {
    JsonNode traffic = obj(r.get("traffic_data"));
    JsonNode location = obj(r.get("location"));
    JsonNode coordinates = location == null ? null : obj(location.get("coordinates"));
    JsonNode weather = obj(r.get("weather"));
    ObjectNode f = NODES.objectNode();
    // Field order as Weir writes it; absent required fields are left out (JSON.stringify drops undefined).
    copy(f, "sensor_id", r.get("sensor_id"), false);
    copy(f, "timestamp", r.get("timestamp"), false);
    copy(f, "speed", traffic == null ? null : traffic.get("speed_mph"), false);
    copy(f, "volume", traffic == null ? null : traffic.get("volume_vehicles_per_hour"), false);
    copy(f, "occupancy", traffic == null ? null : traffic.get("occupancy"), true);
    copy(f, "highway", location == null ? null : location.get("highway"), false);
    copy(f, "direction", location == null ? null : location.get("direction"), false);
    copy(f, "lane_count", location == null ? null : location.get("lanes"), false);
    copy(f, "latitude", coordinates == null ? null : coordinates.get("latitude"), true);
    copy(f, "longitude", coordinates == null ? null : coordinates.get("longitude"), true);
    copy(f, "weather_conditions", weather == null ? null : weather.get("condition"), true);
    copy(f, "temperature_f", weather == null ? null : weather.get("temperature_f"), true);
    return f;
  }

  static ArrayNode validate(ObjectNode f, long now) {
    ArrayNode v = NODES.arrayNode();
    for (String field : new String[] {"sensor_id", "timestamp", "speed", "volume", "highway", "direction"}) {
      if (absent(f.get(field))) v.add(violation("required", "required", field, field + " is required"));
    }
    range(v, f, "speed-range", "speed", 0, 120);
    range(v, f, "volume-range", "volume", 0, 10_000);
    JsonNode ts = f.get("timestamp");
    if (!absent(ts)) {
      long t = epochMs(ts);
      if (t == Long.MIN_VALUE) {
        v.add(violation("timestamp-not-in-future", "notInFuture", "timestamp", "timestamp is not a timestamp"));
        v.add(violation("timestamp-max-age", "maxAge", "timestamp", "timestamp is not a timestamp"));
      } else {
        if (t - now > CLOCK_SKEW_MS)
          v.add(violation("timestamp-not-in-future", "notInFuture", "timestamp", "timestamp is in the future"));
        if (now - t > YEAR_MS)
          v.add(violation("timestamp-max-age", "maxAge", "timestamp", "timestamp is older than a year"));
      }
    }
    return v;
  }

  /** The valid record with Weir's three stamps, as JSON bytes. */
  static byte[] enrich(ObjectNode flat) {
    flat.put("processed_at", ISO_MILLIS.format(Instant.now()));
    flat.put("processor_id", PROCESSOR_ID);
    flat.put("validation_status", "valid");
    return KStreamsBench.write(flat);
  }

  private static void range(ArrayNode v, ObjectNode f, String rule, String field, double min, double max) {
    JsonNode n = f.get(field);
    if (absent(n)) return;
    if (!n.isNumber()) {
      v.add(violation(rule, "range", field, field + " must be a number, got " + n.getNodeType()));
      return;
    }
    double x = n.asDouble();
    if (x < min) v.add(violation(rule, "range", field, field + " " + x + " is below the minimum " + min));
    else if (x > max) v.add(violation(rule, "range", field, field + " " + x + " is above the maximum " + max));
  }

  /** Epoch ms from a number or an ISO-8601 text, Long.MIN_VALUE when it is neither. */
  static long epochMs(JsonNode n) {
    if (n.isNumber()) return n.asLong();
    if (!n.isTextual()) return Long.MIN_VALUE;
    try {
      return Instant.parse(n.asText()).toEpochMilli();
    } catch (DateTimeParseException e) {
      try {
        return OffsetDateTime.parse(n.asText()).toInstant().toEpochMilli();
      } catch (DateTimeParseException e2) {
        return Long.MIN_VALUE;
      }
    }
  }

  static ObjectNode violation(String rule, String type, String field, String message) {
    ObjectNode o = NODES.objectNode();
    o.put("rule", rule);
    o.put("type", type);
    o.put("field", field);
    o.put("message", message);
    return o;
  }

  private static boolean absent(JsonNode n) {
    return n == null || n.isNull() || n.isMissingNode();
  }

  private static JsonNode obj(JsonNode n) {
    return n != null && n.isObject() ? n : null;
  }

  private static void copy(ObjectNode f, String name, JsonNode value, boolean nullWhenAbsent) {
    if (value != null) f.set(name, value);
    else if (nullWhenAbsent) f.putNull(name);
  }
}
