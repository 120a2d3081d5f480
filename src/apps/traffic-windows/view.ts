/**
 * The traffic-windows dashboard tab: each sensor's latest closed window (sortable by any column), and
 * the records that came too late for their window (dead-lettered as LATE_RECORD).
 */

import { type LatestTable, latestTable } from '../../ops/dashboard/index.ts'
import type { TrafficWindowAggregate } from '../traffic/domain/index.ts'

export function windowsView(): LatestTable<TrafficWindowAggregate> {
  return latestTable<TrafficWindowAggregate>({
    id: 'windows',
    title: 'Latest window per sensor',
    key: (w) => w.sensor_id,
    sortBy: 'window_end',
    deadLetterCodes: ['LATE_RECORD'],
    note: 'One row per sensor: its most recent closed window as written to the output topic. Records later than the window plus its grace are dead letters (LATE_RECORD).',
    columns: [
      { field: 'sensor_id', title: 'Sensor', text: true },
      { field: 'window_start', title: 'From (UTC)', unit: 'time' },
      { field: 'window_end', title: 'To (UTC)', unit: 'time' },
      { field: 'avg_speed', title: 'Avg speed', unit: 'mph' },
      { field: 'speed_variance', title: 'Speed variance', unit: 'mph²' },
      { field: 'avg_volume', title: 'Avg volume', unit: 'veh/h' },
      { field: 'avg_occupancy', title: 'Avg occupancy' },
      { field: 'message_count', title: 'Readings' },
    ],
  })
}
