/**
 * What a Weir member puts in the userData of its JoinGroup subscription: `{"v":1,"address":"host:port"}`
 * (Kafka Streams' `application.server`), or nothing when it advertises no address. Any member reads
 * the others' back with DescribeGroups (KafkaAdmin.groupMembers), which is how interactive queries
 * find the instance that owns a key.
 */

const EMPTY = Buffer.alloc(0)

export function encodeMemberData(address: string | undefined): Buffer {
  return address === undefined ? EMPTY : Buffer.from(JSON.stringify({ v: 1, address }), 'utf8')
}

/** The address in a member's userData, or undefined (none advertised, or not a Weir member). */
export function decodeMemberData(data: Buffer | string | null | undefined): string | undefined {
  if (data == null || data.length === 0) return undefined
  try {
    const text = typeof data === 'string' ? data : data.toString('utf8')
    const parsed = JSON.parse(text) as { address?: unknown }
    return typeof parsed.address === 'string' ? parsed.address : undefined
  } catch {
    return undefined
  }
}
