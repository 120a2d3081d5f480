/**
 * How StreamPulse reads its events: the Confluent wire format through a schema registry (resolved to
 * the local `.avsc`, so writers may evolve compatibly) when SCHEMA_REGISTRY_URL is set, plain Avro
 * bodies written with the local `.avsc` otherwise (what the seed's job reads). A body the chosen
 * format cannot read, or a tombstone, is a dead letter with the reason.
 */
import { ErrorCode, WeirError } from '../../core/errors.ts'
import type { Serde } from '../../core/serde.ts'
import { avroFile } from '../../serdes/avro/file.ts'
import { avro } from '../../serdes/avro/serde.ts'
import { type SchemaRegistry, schemaRegistry } from '../../serdes/registry/client.ts'
import type { DownloadEvent } from './domain.ts'

export interface EventFormat {
  readonly serde: Serde<DownloadEvent>
  readonly registry: SchemaRegistry | undefined
}

export function eventFormat(settings: {
  readonly schemaPath: string
  readonly registryUrl: string | undefined
  readonly registryUserInfo: string | undefined
  /** Register the schema when writing (the generator); the app only reads. */
  readonly autoRegister?: boolean
}): EventFormat {
  const registry =
    settings.registryUrl === undefined
      ? undefined
      : schemaRegistry({ url: settings.registryUrl, auth: authOf(settings.registryUserInfo) })
  const inner =
    registry === undefined
      ? avroFile<DownloadEvent>({ schemaPath: settings.schemaPath })
      : avro<DownloadEvent>({
          registry,
          schema: settings.schemaPath,
          autoRegister: settings.autoRegister ?? false,
        })
  return {
    registry,
    serde: {
      name: inner.name,
      serialize: (value, ctx) => inner.serialize(value, ctx),
      deserialize(data, ctx) {
        if (data === null) {
          throw new WeirError(
            ErrorCode.DESERIALIZE_FAILED,
            'null value (tombstone) where an Avro download event was expected',
          )
        }
        return inner.deserialize(data, ctx) as DownloadEvent | Promise<DownloadEvent>
      },
    },
  }
}

function authOf(userInfo: string | undefined): { username: string; password: string } | undefined {
  if (userInfo === undefined) return undefined
  const colon = userInfo.indexOf(':')
  return { username: userInfo.slice(0, colon), password: userInfo.slice(colon + 1) }
}
