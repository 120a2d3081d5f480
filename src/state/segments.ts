/**
 * The bookkeeping of a store's segmented changelog (`PartitionStore`'s `segmentSize`): which keys each
 * segment in the changelog was written with, how many of them are still its own (a key changed again
 * lives in a later segment; a deleted key in none), which segments every key has left (a tombstone is
 * due) and which were asked to hand their remaining keys on. The store keeps the values; this keeps the
 * counts, so the store can tell when a segment may be deleted and when the changelog holds too many dead
 * entries.
 */
interface Segment {
  readonly keys: readonly string[]
  /** Keys whose value is still this segment's. */
  live: number
  /** Its remaining keys were handed on to the next drain. */
  moving: boolean
}

export class ChangelogSegments {
  readonly #segments = new Map<number, Segment>()
  /** Segments every key left: a tombstone each at the next drain. */
  readonly #dead = new Set<number>()
  #next = 0
  /** Entries of all segments, and of those whose keys were handed on. */
  #entries = 0
  #moving = 0

  /** A number never used by a segment of this partition's changelog, for the next one written. */
  nextId(): number {
    return this.#next++
  }

  /** A segment written now, or read back during a restore (a later record under the same id replaces it). */
  add(id: number, keys: readonly string[]): void {
    const had = this.#segments.get(id)
    if (had !== undefined) this.#remove(id, had)
    this.#segments.set(id, { keys, live: keys.length, moving: false })
    this.#entries += keys.length
    if (id >= this.#next) this.#next = id + 1
  }

  /** A tombstone read back during a restore: the segment's keys (those still its own are to go), if known. */
  deleted(id: number): readonly string[] | undefined {
    if (id >= this.#next) this.#next = id + 1
    const seg = this.#segments.get(id)
    if (seg === undefined) return undefined
    this.#remove(id, seg)
    return seg.keys
  }

  /** A key left segment `id`; when it was the last, the segment is due a tombstone. */
  leave(id: number): void {
    const seg = this.#segments.get(id)
    if (seg === undefined) return
    seg.live--
    if (seg.live === 0) {
      this.#remove(id, seg)
      this.#dead.add(id)
    }
  }

  /**
   * While the segments not already handing their keys on hold more than `limit` entries, the oldest
   * hands its keys on (`handOn`); it is deleted once they are written elsewhere. Keys mostly leave in the
   * order they came (dedupe's expiry and bound), so the oldest segment is the emptiest.
   */
  bound(limit: number, handOn: (id: number, keys: readonly string[]) => void): void {
    if (this.#entries - this.#moving <= limit) return
    for (const [id, seg] of this.#segments) {
      if (seg.moving) continue
      seg.moving = true
      this.#moving += seg.keys.length
      handOn(id, seg.keys)
      if (this.#entries - this.#moving <= limit) return
    }
  }

  /** The segments due a tombstone since the last call. */
  takeDead(): number[] {
    const out = [...this.#dead]
    this.#dead.clear()
    return out
  }

  #remove(id: number, seg: Segment): void {
    this.#segments.delete(id)
    this.#entries -= seg.keys.length
    if (seg.moving) this.#moving -= seg.keys.length
  }
}
