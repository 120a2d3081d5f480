import { ErrorCode, WeirError } from '../../core/errors.ts'
import type { ValidationResult, Violation } from '../../dsl/operators/validate.ts'
import type { RidesharePayloads, RideshareTopic } from './domain/index.ts'

/** Is it something the bridge can publish? The seed's handlers dropped what their schemas refused. */
export function check<T extends RideshareTopic>(
  topic: T,
  value: unknown,
): ValidationResult<RidesharePayloads[T]> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return invalid({
      rule: 'object',
      field: '',
      message: `a ${topic} event must be a JSON object`,
      type: 'type',
    })
  }
  if (topic === 'gps_pings') {
    const id = (value as { driver_id?: unknown }).driver_id
    if (typeof id !== 'string' || id === '') return invalid(NO_DRIVER)
  }
  return { ok: true, value: value as RidesharePayloads[T] }
}

/**
 * The payload, or VALIDATION_FAILED with the violations as details (what `validate` throws when its
 * invalid branch is unused, so such a record goes to the dead-letter topic the same way).
 */
export function checked<T extends RideshareTopic>(topic: T, value: unknown): RidesharePayloads[T] {
  const r = check(topic, value)
  if (r.ok) return r.value
  const summary = r.violations.map((v) => (v.field ? `${v.field}: ${v.message}` : v.message)).join('; ')
  throw new WeirError(ErrorCode.VALIDATION_FAILED, `invalid: ${summary}`, { details: r.violations })
}

/** The driver of a GPS ping; VALIDATION_FAILED when it is not an object with a non-empty `driver_id`. */
export function driverOf(ping: unknown): string {
  if (ping !== null && typeof ping === 'object') {
    const id = (ping as { driver_id?: unknown }).driver_id
    if (typeof id === 'string' && id !== '' && !Array.isArray(ping)) return id
  }
  return checked('gps_pings', ping).driver_id
}

const NO_DRIVER: Violation = {
  rule: 'required',
  field: 'driver_id',
  message: 'a GPS ping needs a driver_id string',
  type: 'required',
}

function invalid(v: Violation): ValidationResult<never> {
  return { ok: false, violations: [v] }
}
