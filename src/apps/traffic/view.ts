/** The traffic app's dashboard tab: each sensor's latest valid reading, sortable by any column. */
import { type LatestTable, latestTable } from '../../ops/dashboard/index.ts'
import type { ProcessedTrafficEvent } from './formats.ts'

export function sensorsView(): LatestTable<ProcessedTrafficEvent> {
  return latestTable<ProcessedTrafficEvent>({
    id: 'sensors',
    title: 'Latest reading per sensor',
    key: (e) => e.sensor_id,
    sortBy: 'speed',
    deadLetterCodes: ['VALIDATION_FAILED', 'DESERIALIZE_FAILED'],
    note: 'One row per sensor: its most recent valid reading as written to the output topic. Invalid readings are dead letters, with every reason, in Dead letters.',
    columns: [
      { field: 'sensor_id', title: 'Sensor', text: true },
      { field: 'highway', title: 'Highway', text: true },
      { field: 'direction', title: 'Dir', text: true },
      { field: 'speed', title: 'Speed', unit: 'mph' },
      { field: 'volume', title: 'Volume', unit: 'veh/h' },
      { field: 'occupancy', title: 'Occupancy' },
      { field: 'timestamp', title: 'Measured at (UTC)', text: true },
    ],
  })
}
