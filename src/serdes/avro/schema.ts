/** Avro schemas from JSON objects, JSON text or `.avsc` files, parsed once into avsc Types. */

import { readFileSync } from 'node:fs'
import avsc from 'avsc'
import type { Schema, Type } from 'avsc'
import { ErrorCode, WeirError } from '../../core/errors.ts'

export type AvscType = Type
export type AvroTypeOptions = Parameters<typeof avsc.Type.forSchema>[1]
export type AvroResolver = ReturnType<Type['createResolver']>

/** Where a schema comes from: an avsc JSON object, an avsc Type, JSON text, or a path to a `.avsc` file. */
export type AvroSchemaSource = object | string

export interface ParsedSchema {
  readonly type: Type
  /** The JSON text to register: the file's or caller's schema, not avsc's canonical form, so docs survive. */
  readonly text: string
}

function looksLikeJson(s: string): boolean {
  return /^\s*[{["]/.test(s)
}

function parseType(schema: unknown, origin: string, options: AvroTypeOptions): Type {
  try {
    // avsc records every named type in `options.registry`: a shared one would make the second
    // schema with the same record name fail as a "duplicate type name".
    return avsc.Type.forSchema(schema as Schema, { ...options, registry: { ...options?.registry } })
  } catch (cause) {
    const msg = cause instanceof Error ? cause.message : String(cause)
    throw new WeirError(ErrorCode.CONFIG_INVALID, `invalid Avro schema (${origin}): ${msg}`, { cause })
  }
}

function readJsonFile(path: string): unknown {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (cause) {
    throw new WeirError(
      ErrorCode.CONFIG_INVALID,
      `cannot read Avro schema file ${path}: ${(cause as Error).message}`,
      { cause },
    )
  }
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new WeirError(
      ErrorCode.CONFIG_INVALID,
      `Avro schema file ${path} is not valid JSON: ${(cause as Error).message}`,
      { cause },
    )
  }
}

/** Parses any schema source; throws CONFIG_INVALID naming the file or the problem. */
export function parseSchema(source: AvroSchemaSource, options: AvroTypeOptions = {}): ParsedSchema {
  if (avsc.Type.isType(source)) {
    const type = source as Type
    return { type, text: JSON.stringify(type.schema({ exportAttrs: true })) }
  }
  if (typeof source === 'string') {
    if (looksLikeJson(source)) {
      let json: unknown
      try {
        json = JSON.parse(source)
      } catch (cause) {
        throw new WeirError(
          ErrorCode.CONFIG_INVALID,
          `Avro schema text is not valid JSON: ${(cause as Error).message}`,
          { cause },
        )
      }
      return { type: parseType(json, 'inline JSON', options), text: JSON.stringify(json) }
    }
    const json = readJsonFile(source)
    return { type: parseType(json, source, options), text: JSON.stringify(json) }
  }
  return { type: parseType(source, 'inline object', options), text: JSON.stringify(source) }
}

/**
 * Reads a `.avsc` file into an avsc Type.
 * @example const event = loadAvsc('schemas/event.avsc'); event.toBuffer({ ... })
 */
export function loadAvsc(path: string, options: AvroTypeOptions = {}): Type {
  return parseType(readJsonFile(path), path, options)
}
